// The registry core: parsing and checking values of every type, exact number formatting, the
// ParamSet accessors and the registry's own consistency checks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fibseg/config/param_set.hpp"
#include "fibseg/config/stage_params.hpp"
#include "fibseg/core/error.hpp"
#include "test_specs.hpp"
#include "test_helpers.hpp"

namespace fibseg::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::testSpecs;

const ParamSpec& spec(const std::string& name) { return *findParameter(testSpecs(), name); }

using fibseg::test::errorOf;

TEST(Registry, ParsesEveryType) {
  EXPECT_EQ(std::get<long long>(parseValue(spec("align.max_shift"), " 40 ", "here")), 40);
  EXPECT_EQ(std::get<long long>(parseValue(spec("align.max_shift"), "+7", "here")), 7);
  EXPECT_EQ(std::get<double>(parseValue(spec("input.pixel_size_nm"), "2.5", "here")), 2.5);
  EXPECT_EQ(std::get<double>(parseValue(spec("input.pixel_size_nm"), "1e1", "here")), 10.0);
  EXPECT_EQ(std::get<bool>(parseValue(spec("align.enabled"), "No", "here")), false);
  EXPECT_EQ(std::get<bool>(parseValue(spec("align.enabled"), "TRUE", "here")), true);
  // Choices match ignoring case and come back in the registry's spelling.
  EXPECT_EQ(std::get<std::string>(parseValue(spec("segment.method"), "Classifier", "here")), "classifier");
  EXPECT_EQ(std::get<std::vector<double>>(parseValue(spec("segment.grey_levels"), "0, 100,200", "here")),
            (std::vector<double>{0, 100, 200}));
  EXPECT_EQ(std::get<std::string>(parseValue(spec("segment.note"), " a, b ", "here")), "a, b");
  EXPECT_EQ(std::get<std::vector<double>>(parseValue(spec("segment.grey_levels"), "[1, 2.5]", "here")),
            (std::vector<double>{1, 2.5}));
  EXPECT_TRUE(std::get<std::vector<double>>(parseValue(spec("segment.grey_levels"), "[]", "here")).empty());
}

TEST(Registry, RejectsWrongTypesAndRangesWithPlaceAndExpectation) {
  EXPECT_EQ(errorOf([] { parseValue(spec("align.max_shift"), "40.5", "p.toml:3"); }),
            "parameter 'align.max_shift' at p.toml:3: expected an integer from 1 to 500 (px), got '40.5'");
  EXPECT_THAT(errorOf([] { parseValue(spec("align.max_shift"), "501", "p.toml:3"); }),
              AllOf(HasSubstr("from 1 to 500"), HasSubstr("got '501' (out of range)")));
  EXPECT_THAT(errorOf([] { parseValue(spec("input.pixel_size_nm"), "-1", "x"); }),
              HasSubstr("expected a number of at least 0 (nm), got '-1' (out of range)"));
  EXPECT_THAT(errorOf([] { parseValue(spec("input.pixel_size_nm"), "nan", "x"); }), HasSubstr("got 'nan'"));
  EXPECT_THAT(errorOf([] { parseValue(spec("input.pixel_size_nm"), "2,5", "x"); }),
              HasSubstr("got '2,5' (write the decimal point as '.', not ',')"));
  EXPECT_THAT(errorOf([] { parseValue(spec("align.enabled"), "maybe", "x"); }),
              HasSubstr("expected true or false, got 'maybe'"));
  EXPECT_THAT(errorOf([] { parseValue(spec("segment.method"), "kmeans", "x"); }),
              HasSubstr("expected one of: otsu, classifier, got 'kmeans'"));
  EXPECT_THAT(errorOf([] { parseValue(spec("segment.grey_levels"), "0, x, 2", "x"); }),
              HasSubstr("'x' is not a number"));
  EXPECT_THAT(errorOf([] { parseValue(spec("segment.grey_levels"), "0, 300", "x"); }), HasSubstr("out of range"));
}

TEST(Registry, NumbersAreFormattedExactly) {
  const ParamSpec anyNumber{.section = "s", .key = "k", .type = ParamType::Real, .defaultValue = "0",
                            .description = "any number"};
  for (const double v : {0.1, 1.0 / 3.0, 1e-7, 123456789.123, 6.02214076e23, -2.5}) {
    const std::string text = formatNumber(v);
    EXPECT_EQ(std::get<double>(parseValue(anyNumber, text, "x")), v) << text;
  }
  EXPECT_EQ(formatNumber(0.1), "0.1");
  EXPECT_EQ(formatNumber(40), "40");
}

TEST(ParamSet, DefaultsAndAccessors) {
  const ParamSet set = ParamSet::defaults(testSpecs());
  EXPECT_EQ(set.integer("align.max_shift"), 40);
  EXPECT_EQ(set.real("align.max_shift"), 40.0);  // integers read as numbers too
  EXPECT_EQ(set.real("input.pixel_size_nm"), 0.0);
  EXPECT_TRUE(set.boolean("align.enabled"));
  EXPECT_EQ(set.text("segment.method"), "otsu");
  EXPECT_EQ(set.realList("segment.grey_levels"), (std::vector<double>{0, 128, 255}));
  EXPECT_EQ(set.resolved("align.max_shift").origin, "default");
  EXPECT_FALSE(set.resolved("input.path").isSet);
}

TEST(ParamSet, SetValueKeepsFullPrecision) {
  // ostream's default 6 significant digits once turned 0.123456789 into 0.123457 here.
  ParamSet set = ParamSet::defaults(testSpecs());
  set.setValue("input.pixel_size_nm", 0.123456789, "test");
  EXPECT_EQ(set.real("input.pixel_size_nm"), 0.123456789);
  set.setValue("align.max_shift", 12.0, "test");  // an integral number is a valid integer
  EXPECT_EQ(set.integer("align.max_shift"), 12);
  EXPECT_THROW(set.setValue("align.max_shift", 12.5, "test"), Error);
}

TEST(ParamSet, UnknownNamesGetTheNearestSuggested) {
  ParamSet set = ParamSet::defaults(testSpecs());
  EXPECT_EQ(errorOf([&] { set.set("align.max_shfit", "3", "p.toml:4"); }),
            "unknown parameter 'align.max_shfit' at p.toml:4; did you mean 'align.max_shift'?");
  // A key without its section is matched by the key alone.
  EXPECT_THAT(errorOf([&] { set.set("max_shift", "3", "x"); }), HasSubstr("did you mean 'align.max_shift'?"));
  EXPECT_THAT(errorOf([&] { set.integer("segment.metod"); }), HasSubstr("did you mean 'segment.method'?"));
  // Nothing close: no misleading suggestion, but where the list is.
  EXPECT_EQ(errorOf([&] { set.set("report.colour_map", "x", "p.toml:9"); }),
            "unknown parameter 'report.colour_map' at p.toml:9; `fibseg init FILE.toml` writes every known "
            "parameter with its description");
}

TEST(ParamSet, MissingRequiredValuesAreNamed) {
  ParamSet set = ParamSet::defaults(testSpecs());
  EXPECT_THAT(errorOf([&] { set.text("input.path"); }),
              AllOf(HasSubstr("required parameter not given: 'input.path'"), HasSubstr("a file or folder path")));
  EXPECT_THAT(errorOf([&] { set.requireComplete(); }),
              AllOf(HasSubstr("required parameters not given"), HasSubstr("'input.path'"), HasSubstr("'output.folder'")));
  set.set("input.path", "/data", "test");
  set.set("output.folder", "/out", "test");
  EXPECT_NO_THROW(set.requireComplete());
  EXPECT_EQ(set.text("input.path"), "/data");
}

TEST(ParamSet, ASetNotMadeFromDefaultsFailsClearly) {
  const ParamSet empty;  // reading it used to dereference map::end()
  EXPECT_THAT(errorOf([&] { empty.resolved("input.path"); }), HasSubstr("internal"));
}

TEST(Registry, ConsistencyChecks) {
  std::vector<ParamSpec> specs = {testSpecs()[3], testSpecs()[3]};
  EXPECT_THAT(errorOf([&] { validateRegistry(specs); }), HasSubstr("duplicate name align.max_shift"));
  specs = {testSpecs()[3]};
  specs[0].defaultValue = "0";
  EXPECT_THAT(errorOf([&] { validateRegistry(specs); }), HasSubstr("out of range"));
  specs = {testSpecs()[5]};
  specs[0].choices.clear();
  EXPECT_THAT(errorOf([&] { validateRegistry(specs); }), HasSubstr("lists no choices"));
  specs = {testSpecs()[3]};
  specs[0].key = "a.b";
  EXPECT_THAT(errorOf([&] { validateRegistry(specs); }), HasSubstr("section.key"));
}

TEST(Registry, TheRealRegistryIsConsistent) {
  EXPECT_NO_THROW(validateRegistry(allParameters()));
  ASSERT_NE(findParameter("input.path"), nullptr);
  EXPECT_TRUE(findParameter("input.path")->required);
  EXPECT_NE(findParameter("output.folder"), nullptr);
}

}  // namespace
}  // namespace fibseg::config
