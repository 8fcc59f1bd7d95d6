// Delimited-text primitives: delimiter detection, quoted fields, locale-free numbers with
// decimal comma, missing markers, exact seconds -> ns, elapsed-time and date-time text.
#include "import/common/delimited.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "import/common/date_text.h"

namespace opsync::import {
namespace {

TEST(Delimited, DetectsDelimiter) {
  EXPECT_EQ(detect_delimiter("time/s\tEwe/V\t<I>/mA"), '\t');
  EXPECT_EQ(detect_delimiter("Zeit [s];Spannung [V];Strom [mA]"), ';');
  EXPECT_EQ(detect_delimiter("Data_Point,Test_Time,DateTime"), ',');
  // Commas inside quotes do not count.
  EXPECT_EQ(detect_delimiter("\"a,b\";\"c,d\";e"), ';');
}

TEST(Delimited, SplitsPlainAndQuotedFields) {
  std::vector<std::string_view> f;
  split_fields("1,2,,4", ',', f);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[2], "");
  EXPECT_EQ(f[3], "4");

  split_fields("\"Voltage, cell (V)\",\"3,5\",x", ',', f);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], "Voltage, cell (V)");
  EXPECT_EQ(f[1], "3,5");
  EXPECT_EQ(f[2], "x");

  split_fields("a\tb\t", '\t', f);  // EC-Lab header: trailing tab gives an empty last field
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[2], "");
}

TEST(Delimited, ParsesNumbersWithPointOrDecimalComma) {
  EXPECT_DOUBLE_EQ(parse_number("3.301", false).value, 3.301);
  EXPECT_DOUBLE_EQ(parse_number(" -1.1444092e-05 ", false).value, -1.1444092e-05);
  EXPECT_DOUBLE_EQ(parse_number("+2", false).value, 2.0);
  EXPECT_DOUBLE_EQ(parse_number("8.999999761581421E-001", false).value, 8.999999761581421E-001);
  const Number dc = parse_number("2,749999930529157E-002", true);
  ASSERT_EQ(dc.status, NumberStatus::Ok);
  EXPECT_DOUBLE_EQ(dc.value, 2.749999930529157E-002);
  EXPECT_DOUBLE_EQ(parse_number("3,301", true).value, 3.301);
  // A comma is not a decimal mark in a comma-separated file, and never with a point too.
  EXPECT_EQ(parse_number("3,301", false).status, NumberStatus::Invalid);
  EXPECT_EQ(parse_number("1,234.5", true).status, NumberStatus::Invalid);
  EXPECT_EQ(parse_number("3.3x1", false).status, NumberStatus::Invalid);
  EXPECT_EQ(parse_number("inf", false).status, NumberStatus::Invalid);
  EXPECT_EQ(parse_number("1e999", false).status, NumberStatus::Invalid);
  EXPECT_EQ(parse_number("1e-999", false).value, 0.0);
}

TEST(Delimited, RecognisesMissingMarkers) {
  for (const char* s : {"", "NaN", "nan", "N/A", "XXXX", "-", "#N/A", "null"}) {
    EXPECT_EQ(parse_number(s, false).status, NumberStatus::Missing) << s;
  }
  EXPECT_EQ(parse_number("0", false).status, NumberStatus::Ok);
}

TEST(Delimited, SecondsToExactNanoseconds) {
  EXPECT_EQ(parse_seconds_ns("769267.2400", false), 769267240000000LL);
  EXPECT_EQ(parse_seconds_ns("1494645243.4715", false), 1494645243471500000LL);
  EXPECT_EQ(parse_seconds_ns("0,5", true), 500000000LL);
  EXPECT_EQ(parse_seconds_ns("2,749999930529157E-002", true), 27499999LL);  // 27499999.305 ns
  EXPECT_FALSE(parse_seconds_ns("12s", false).has_value());
  // Minutes and hours through long double: exact for decimal text.
  EXPECT_EQ(parse_scaled_ns("1.5", 3.6e12L, false), 5400000000000LL);
  EXPECT_EQ(parse_scaled_ns("0.1", 3.6e12L, false), 360000000000LL);
  EXPECT_EQ(parse_scaled_ns("2,5", 6e10L, true), 150000000000LL);
}

TEST(Delimited, ElapsedTimeText) {
  EXPECT_EQ(parse_elapsed_ns("  0d 00:00:5"), 5000000000LL);
  EXPECT_EQ(parse_elapsed_ns("  2d 02:52:51.57"), (2LL * 86400 + 2 * 3600 + 52 * 60 + 51) * 1000000000LL + 570000000LL);
  // Long float tails round at the nanosecond: 0.00999999977648 s -> 10000000 ns.
  EXPECT_EQ(parse_elapsed_ns("0d 00:02:0.00999999977648258"), 120010000000LL);
  EXPECT_EQ(parse_elapsed_ns("01:00:00"), 3600000000000LL);
  EXPECT_FALSE(parse_elapsed_ns("5.0").has_value());
  EXPECT_FALSE(parse_elapsed_ns("0d 00:61:00").has_value());
}

TEST(Delimited, Int64) {
  EXPECT_EQ(parse_int64("1705501321146614000"), 1705501321146614000LL);
  EXPECT_EQ(parse_int64("-5"), -5);
  EXPECT_FALSE(parse_int64("1.5").has_value());
  EXPECT_FALSE(parse_int64("").has_value());
}

TEST(DateText, UsMonthFirstForms) {
  auto p = parse_date_time_text("01/17/2024 15:22:05.748");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->civil.year, 2024);
  EXPECT_EQ(p->civil.month, 1);
  EXPECT_EQ(p->civil.day, 17);
  EXPECT_EQ(p->civil.hour, 15);
  EXPECT_EQ(p->civil.nanos, 748000000);
  EXPECT_FALSE(p->has_zone);

  p = parse_date_time_text("5/11/2021 3:40:24 PM");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->civil.month, 5);
  EXPECT_EQ(p->civil.hour, 15);
  p = parse_date_time_text("12/11/2020 12:22:12 AM");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->civil.hour, 0);
  p = parse_date_time_text("10/22/2019");  // Maccor DPt Time at midnight has no clock part
  ASSERT_TRUE(p);
  EXPECT_EQ(p->civil.day, 22);
  EXPECT_EQ(p->civil.hour, 0);
  p = parse_date_time_text("23-Nov-23 3:56:11 PM");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->civil.year, 2023);
  EXPECT_EQ(p->civil.month, 11);
  EXPECT_EQ(p->civil.day, 23);
  EXPECT_EQ(p->civil.hour, 15);
  p = parse_date_time_text("01.17.2024 15.22.05.748");  // EC-Lab with '.' separators
  ASSERT_TRUE(p);
  EXPECT_EQ(p->civil.minute, 22);
  EXPECT_EQ(p->civil.nanos, 748000000);
  EXPECT_FALSE(parse_date_time_text("13/45/2024 10:00:00"));
  EXPECT_FALSE(parse_date_time_text("hello"));
}

TEST(DateText, IsoForms) {
  auto p = parse_date_time_text("2024-01-17T14:22:01.146614Z");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->has_zone);
  EXPECT_EQ(p->civil.nanos, 146614000);
  p = parse_date_time_text("2020/03/25 11:16:50");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->civil.month, 3);
  EXPECT_FALSE(p->has_zone);
}

}  // namespace
}  // namespace opsync::import
