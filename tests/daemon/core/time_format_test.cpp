// Civil time <-> ns, ISO 8601 text and exact decimal-seconds parsing.
#include "core/time_format.h"

#include <gtest/gtest.h>

namespace opsync {
namespace {

TEST(TimeFormat, CivilToNsKnownInstant) {
  // Zilien fixture header: start_time_unix 1705501321.146614 = 2024-01-17 14:22:01.146614 UTC.
  CivilTime c{2024, 1, 17, 14, 22, 1, 146'614'000};
  EXPECT_EQ(civil_to_ns(c), 1'705'501'321'146'614'000);
  EXPECT_EQ(civil_to_ns(CivilTime{}), 0);
  EXPECT_EQ(civil_to_ns(CivilTime{1969, 12, 31, 23, 59, 59, 0}), -kNsPerS);
}

TEST(TimeFormat, NsToCivilRoundTripsIncludingBeforeEpoch) {
  for (int64_t t : {int64_t{0}, int64_t{-1}, int64_t{1'705'501'321'146'614'000}, int64_t{-86'400'000'000'001},
                    int64_t{951'782'400'000'000'000} /* 2000-02-29 */}) {
    EXPECT_EQ(civil_to_ns(ns_to_civil(t)), t) << t;
  }
  const CivilTime leap = ns_to_civil(951'782'400'000'000'000);
  EXPECT_EQ(leap.month, 2);
  EXPECT_EQ(leap.day, 29);
}

TEST(TimeFormat, FormatIsoUtc) {
  EXPECT_EQ(format_iso_utc(1'705'501'321'146'614'000), "2024-01-17T14:22:01.146614Z");
  EXPECT_EQ(format_iso_utc(1'705'501'321'146'614'000, 0), "2024-01-17T14:22:01Z");
  EXPECT_EQ(format_iso_utc(1'705'501'321'146'614'123, 9), "2024-01-17T14:22:01.146614123Z");
  EXPECT_EQ(format_iso_utc(-1, 3), "1969-12-31T23:59:59.999Z");
}

TEST(TimeFormat, ParseIsoVariants) {
  auto p = parse_iso_datetime("2024-01-17T15:22:01.146614+01:00");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->has_zone);
  EXPECT_EQ(p->zone_offset_s, 3600);
  EXPECT_EQ(civil_to_ns(p->civil) - int64_t{p->zone_offset_s} * kNsPerS, 1'705'501'321'146'614'000);

  p = parse_iso_datetime("2024-01-17 14:22:01");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has_zone);
  EXPECT_EQ(p->civil.second, 1);

  p = parse_iso_datetime("2024-01-17T14:22Z");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->has_zone);
  EXPECT_EQ(p->zone_offset_s, 0);

  p = parse_iso_datetime("2024-01-17");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->civil.hour, 0);

  p = parse_iso_datetime("2024-01-17T14:22:01-0530");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->zone_offset_s, -(5 * 3600 + 30 * 60));
}

TEST(TimeFormat, ParseIsoRejectsGarbage) {
  for (const char* bad : {"", "2024-13-01", "2024-02-30T00:00:00", "2024-01-17T25:00:00", "17/01/2024 10:00",
                          "2024-01-17T14:22:01.", "2024-01-17T14:22:01 extra", "2024-1-7"}) {
    EXPECT_FALSE(parse_iso_datetime(bad)) << bad;
  }
}

TEST(TimeFormat, SecondsTextIsExactForDecimalText) {
  EXPECT_EQ(seconds_text_to_ns("769267.2400"), 769'267'240'000'000);
  EXPECT_EQ(seconds_text_to_ns("  0.1 "), 100'000'000);
  EXPECT_EQ(seconds_text_to_ns("-2.5"), -2'500'000'000);
  EXPECT_EQ(seconds_text_to_ns("1494645243.4715"), 1'494'645'243'471'500'000);
  EXPECT_EQ(seconds_text_to_ns("30.00073859111968"), 30'000'738'591);  // 10th digit 1: rounds down
  EXPECT_EQ(seconds_text_to_ns("0.0000000005"), 1);                    // half rounds up
  EXPECT_EQ(seconds_text_to_ns(".5"), 500'000'000);
}

TEST(TimeFormat, SecondsTextExponentForm) {
  EXPECT_EQ(seconds_text_to_ns("8.365199788677273E+000"), 8'365'199'789);
  EXPECT_EQ(seconds_text_to_ns("5.474458e+00"), 5'474'458'000);
  EXPECT_EQ(seconds_text_to_ns("1e3"), 1'000'000'000'000);
}

TEST(TimeFormat, SecondsTextRejects) {
  for (const char* bad : {"", "abc", "1.2.3", "1,5", "--1", "1e", "nan", "inf", "1e400"}) {
    EXPECT_FALSE(seconds_text_to_ns(bad)) << bad;
  }
}

}  // namespace
}  // namespace opsync
