// CSV fields: a slice name with a comma or quote survives the round trip through transforms.csv.
#include <gtest/gtest.h>

#include "fibseg/core/text.hpp"

namespace fibseg {
namespace {

TEST(Csv, PlainFieldsSplitAndTrimmed) {
  EXPECT_EQ(splitCsvRecord("0, slice_0000.tif ,1.5\r"), (std::vector<std::string>{"0", "slice_0000.tif", "1.5"}));
  EXPECT_EQ(splitCsvRecord(""), (std::vector<std::string>{""}));
  EXPECT_EQ(splitCsvRecord("a,,b"), (std::vector<std::string>{"a", "", "b"}));
}

TEST(Csv, FieldWithCommaOrQuoteRoundTrips) {
  for (const std::string name : {"plain.tif", "run 3, slice 1.tif", "the \"best\" slice.tif", "a,\"b\",c"}) {
    const auto fields = splitCsvRecord("7," + csvField(name) + ",0.25");
    ASSERT_EQ(fields.size(), 3u) << name;
    EXPECT_EQ(fields[1], name);
    EXPECT_EQ(fields[2], "0.25");
  }
  EXPECT_EQ(csvField("plain.tif"), "plain.tif");  // quoted only when needed
  EXPECT_EQ(csvField("a,b"), "\"a,b\"");
}

}  // namespace
}  // namespace fibseg
