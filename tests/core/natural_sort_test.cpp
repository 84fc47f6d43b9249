#include <gtest/gtest.h>

#include "fibseg/core/natural_sort.hpp"

using fibseg::naturalSort;

TEST(NaturalSort, NumbersCompareByValue) {
  std::vector<std::string> names{"slice_10.tif", "slice_2.tif", "slice_1.tif", "slice_100.tif", "slice_20.tif"};
  naturalSort(names);
  EXPECT_EQ(names, (std::vector<std::string>{"slice_1.tif", "slice_2.tif", "slice_10.tif", "slice_20.tif",
                                             "slice_100.tif"}));
}

TEST(NaturalSort, ZeroPaddedAndMixedCase) {
  std::vector<std::string> names{"Img_010.png", "img_9.png", "IMG_0011.png", "a", "B"};
  naturalSort(names);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "B", "img_9.png", "Img_010.png", "IMG_0011.png"}));
}

TEST(NaturalSort, HugeNumbersDoNotOverflow) {
  std::vector<std::string> names{"s99999999999999999999999", "s100000000000000000000000", "s5"};
  naturalSort(names);
  EXPECT_EQ(names.front(), "s5");
  EXPECT_EQ(names.back(), "s100000000000000000000000");
}
