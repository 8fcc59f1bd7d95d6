// Plain CSV / Arbin CSV / opsync's own export: the Arbin fixture against ORACLES.md, and
// synthetic files for decimal comma, latin-1, --columns, clock offset, zones, ISO and US
// date-time columns, hours, elapsed text, current inversion and the lossless round trip.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "import/import_types.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

using testing::find_channel;
using testing::write_temp;

TEST(GenericCsv, ArbinExportMatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_file(opsync::test::fixture("cycler/arbin_export.csv"), {});
  EXPECT_EQ(r.format, "arbin-csv");
  EXPECT_EQ(r.rows, 248u);
  // Start = first row's DateTime (Unix s, UTC) minus its Test_Time = 1494645233.4691 s, exact.
  EXPECT_TRUE(r.has_absolute_start);
  EXPECT_EQ(r.start_ns, 1494645233469100000LL);
  EXPECT_EQ(r.t_first_ns - r.start_ns, 10002400000LL);   // 10.0024 s
  EXPECT_EQ(r.t_last_ns - r.start_ns, 1800010400000LL);  // 1800.0104 s
  EXPECT_FALSE(testing::has_assumption(r, "naive"));        // Unix time carries its zone
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_REL(testing::min_value(*v), 3.3009267, 1e-6);
  EXPECT_REL(testing::max_value(*v), 3.3011565, 1e-6);
  EXPECT_EQ(testing::min_value(*i), 0.0);
  EXPECT_EQ(testing::max_value(*i), 0.0);
  EXPECT_TRUE(testing::current_segments(*i).empty());
  EXPECT_EQ(testing::count_events(r, "step_change"), 0u);
  EXPECT_TRUE(testing::has_assumption(r, "Arbin native (+ = charge)"));
}

TEST(GenericCsv, SemicolonDecimalCommaAndLatin1Header) {
  // "Strom (µA)" in latin-1: 0xB5.
  const std::string text =
      "Zeit (s);Spannung (V);Strom (\xB5" "A)\n"
      "0;3,301;1500\n"
      "1,5;3,302;-2,5\n";
  const std::string path = write_temp("semi.csv", text);
  ImportOptions o;
  o.columns = {{"time", "Zeit (s)"}, {"voltage", "Spannung (V)"}, {"current", "Strom (\xC2\xB5" "A)"}};
  const ImportResult r = import_file(path, o);
  EXPECT_EQ(r.format, "csv");
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_DOUBLE_EQ(v->values[0], 3.301);
  EXPECT_DOUBLE_EQ(v->values[1], 3.302);
  EXPECT_DOUBLE_EQ(i->values[0], 1500e-6);
  EXPECT_DOUBLE_EQ(i->values[1], -2.5e-6);
  EXPECT_EQ(i->t_ns[1], 1500000000);
  EXPECT_TRUE(testing::has_assumption(r, "cp1252"));
  EXPECT_TRUE(testing::has_assumption(r, "[--columns]"));
}

TEST(GenericCsv, ClockOffsetIsSubtractedExactly) {
  const std::string text = "time_s,voltage_v,current_a\n0,3.0,0.1\n10.000000001,3.1,0.1\n";
  const std::string path = write_temp("offset.csv", text);
  ImportOptions o;
  o.clock_offset_s = 2.5;
  o.start_iso = "2024-03-01T00:00:00Z";
  const ImportResult r = import_file(path, o);
  const int64_t start = civil_to_ns(CivilTime{2024, 3, 1, 0, 0, 0, 0});
  EXPECT_EQ(r.start_ns, start);  // before the offset
  const ChannelData* v = find_channel(r, "voltage");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->t_ns[0], start - 2500000000LL);
  EXPECT_EQ(v->t_ns[1], start + 10000000001LL - 2500000000LL);
  EXPECT_EQ(r.t_first_ns, start - 2500000000LL);
  EXPECT_EQ(r.t_last_ns, start + 7500000001LL);
  EXPECT_TRUE(testing::has_assumption(r, "clock offset: 2.5 s subtracted"));
}

TEST(GenericCsv, NaiveDateTimeColumnInAZone) {
  // Only an absolute column: each row's own time. 12:00 at +02:00 is 10:00Z.
  const std::string text =
      "Date Time,Voltage (V),Current (A)\n"
      "2024-06-01 12:00:00,3.5,0.2\n"
      "2024-06-01 12:00:30.5,3.6,0.2\n";
  const std::string path = write_temp("naive.csv", text);
  ImportOptions o;
  o.time_zone = "+02:00";
  const ImportResult r = import_file(path, o);
  const int64_t ten_z = civil_to_ns(CivilTime{2024, 6, 1, 10, 0, 0, 0});
  EXPECT_EQ(r.start_ns, ten_z);
  EXPECT_EQ(r.t_first_ns, ten_z);
  EXPECT_EQ(r.t_last_ns, ten_z + 30500000000LL);
  EXPECT_TRUE(testing::has_assumption(r, "naive local time; assumed zone +02:00"));
}

TEST(GenericCsv, IanaZoneHonoursDaylightSaving) {
  const std::string text = "timestamp,voltage,current\n2024-01-15 12:00:00,3,0\n2024-07-15 12:00:00,3,0\n";
  const std::string path = write_temp("berlin.csv", text);
  ImportOptions o;
  o.time_zone = "Europe/Berlin";
  const ImportResult r = import_file(path, o);
  const ChannelData* v = find_channel(r, "voltage");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->t_ns[0], civil_to_ns(CivilTime{2024, 1, 15, 11, 0, 0, 0}));  // CET, +1
  EXPECT_EQ(v->t_ns[1], civil_to_ns(CivilTime{2024, 7, 15, 10, 0, 0, 0}));  // CEST, +2
}

TEST(GenericCsv, IsoDateTimeWithZoneAndRelativeHours) {
  // Relative time in hours plus an ISO column with Z: start = first datetime - first time.
  const std::string text =
      "time/h,timestamp,Ewe/V,I/mA\n"
      "1.5,2024-01-17T15:30:00Z,3.0,1\n"
      "2,2024-01-17T16:00:00Z,3.1,1\n";
  const std::string path = write_temp("hours.csv", text);
  const ImportResult r = import_file(path, {});
  const int64_t first = civil_to_ns(CivilTime{2024, 1, 17, 15, 30, 0, 0});
  EXPECT_EQ(r.start_ns, first - 5400000000000LL);
  EXPECT_EQ(r.t_first_ns, first);
  EXPECT_EQ(r.t_last_ns, first + 1800000000000LL);
  EXPECT_FALSE(testing::has_assumption(r, "naive"));
  EXPECT_TRUE(testing::has_assumption(r, "column 'time/h' -> time (h, x3600 -> s)"));
}

TEST(GenericCsv, UsDateTimeWithAmPmAndElapsedText) {
  const std::string text =
      "TestTime\tDPt Time\tVolts\tAmps\n"
      "0d 00:00:00\t12/31/2023 11:59:59 PM\t3.0\t0\n"
      "0d 00:00:01.5\t01/01/2024 12:00:00 AM\t3.1\t0\n";
  const std::string path = write_temp("us.tsv", text);
  const ImportResult r = import_file(path, {});
  const int64_t first = civil_to_ns(CivilTime{2023, 12, 31, 23, 59, 59, 0});
  EXPECT_EQ(r.start_ns, first);
  EXPECT_EQ(r.t_last_ns, first + 1500000000LL);
}

TEST(GenericCsv, NoAbsoluteTimeStartsAtEpochAndSaysSo) {
  const std::string path = write_temp("rel.csv", "Time [s],Voltage [V],Current [mA]\n0,3,1\n5,3,1\n");
  const ImportResult r = import_file(path, {});
  EXPECT_FALSE(r.has_absolute_start);
  EXPECT_EQ(r.t_first_ns, 0);
  EXPECT_EQ(r.t_last_ns, 5 * kNsPerS);
  EXPECT_TRUE(testing::has_assumption(r, "times are relative"));
  EXPECT_TRUE(testing::has_assumption(r, "--start"));
  EXPECT_TRUE(testing::has_assumption(r, "assumed charge positive"));
}

TEST(GenericCsv, InvertCurrentEmptyCellsAndBackwardsTime) {
  // Time going back is kept as is (real files do it); an empty cell is no sample.
  const std::string text = "time,voltage,current,capacity (mAh)\n0,3.0,1.0,0\n10,,1.0,2\n5,3.2,-1.0,\n";
  const std::string path = write_temp("inv.csv", text);
  ImportOptions o;
  o.invert_current = true;
  const ImportResult r = import_file(path, o);
  EXPECT_EQ(r.rows, 3u);
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  const ChannelData* q = find_channel(r, "capacity");
  ASSERT_TRUE(v && i && q);
  ASSERT_EQ(v->values.size(), 2u);
  EXPECT_EQ(v->t_ns[1], 5 * kNsPerS);
  EXPECT_EQ(i->values[0], -1.0);
  EXPECT_EQ(i->values[2], 1.0);
  ASSERT_EQ(q->values.size(), 2u);
  EXPECT_DOUBLE_EQ(q->values[1], 7.2);  // 2 mAh = 7.2 C
  EXPECT_EQ(r.t_last_ns, 10 * kNsPerS);
  EXPECT_TRUE(testing::has_assumption(r, "--invert-current"));
}

TEST(GenericCsv, OpsyncExportRoundTripsExactly) {
  // The exporter's format: integer t_ns, ISO text (ignored), name[unit] columns with 17
  // significant digits, empty cell = no sample in that channel.
  const std::string text =
      "t_ns,time_utc,voltage[V],current[A],capacity[C],temperature[K],step,cycle\n"
      "1705501321146614001,2024-01-17T14:22:01.146614Z,3.3011441000000002,0.10000000000000001,0,298.14999999999998,1,0\n"
      "1705501321246614001,2024-01-17T14:22:01.246614Z,,-0.20000000000000001,1.2345678901234567e-05,,2,0\n"
      "1705501321346614002,2024-01-17T14:22:01.346614Z,3.4000000000000004,,,,2,1\n"
      "1705501321346614002,2024-01-17T14:22:01.346614002Z,NaN,,,,,\n";
  const std::string path = write_temp("export.csv", text);
  const ImportResult r = import_file(path, {});
  EXPECT_EQ(r.format, "opsync-csv");
  EXPECT_EQ(r.rows, 4u);
  EXPECT_EQ(r.start_ns, 1705501321146614001LL);
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  const ChannelData* q = find_channel(r, "capacity");
  const ChannelData* k = find_channel(r, "temperature");
  ASSERT_TRUE(v && i && q && k);
  EXPECT_EQ(v->unit, "V");
  EXPECT_EQ(k->unit, "K");  // unknown names and units kept as written
  ASSERT_EQ(v->values.size(), 3u);
  EXPECT_EQ(v->t_ns[1], 1705501321346614002LL);
  EXPECT_EQ(v->values[0], 3.3011441000000002);  // bit-exact
  EXPECT_EQ(v->values[1], 3.4000000000000004);
  // Two samples at one t_ns come on two rows; the exporter's NaN is a sample, not a gap.
  EXPECT_EQ(v->t_ns[2], 1705501321346614002LL);
  EXPECT_TRUE(std::isnan(v->values[2]));
  ASSERT_EQ(i->values.size(), 2u);
  EXPECT_EQ(i->values[1], -0.20000000000000001);
  EXPECT_EQ(q->values[1], 1.2345678901234567e-05);
  EXPECT_EQ(k->values.size(), 1u);
  const ChannelData* step = find_channel(r, "step");
  ASSERT_TRUE(step);
  EXPECT_EQ(step->unit, "");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].detail, "step 1 -> 2");
  EXPECT_EQ(r.events[0].t_ns, 1705501321246614001LL);
  EXPECT_EQ(r.events[1].kind, "cycle_change");
  EXPECT_EQ(r.t_last_ns, 1705501321346614002LL);
}

TEST(GenericCsv, CommentLinesAndQuotedHeaders) {
  const std::string text =
      "# exported by a lab script\n"
      "\"Time (s)\",\"Voltage (V)\",\"Current (mA)\"\n"
      "\"0\",\"3.0\",\"5\"\n"
      "# pause\n"
      "\"60\",\"3.1\",\"5\"\n";
  const std::string path = write_temp("quoted.csv", text);
  const ImportResult r = import_file(path, {});
  EXPECT_EQ(r.rows, 2u);
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_DOUBLE_EQ(i->values[1], 0.005);
  EXPECT_EQ(i->t_ns[1], 60 * kNsPerS);
}

TEST(GenericCsv, PreambleLinesBeforeTheHeader) {
  const std::string text =
      "Cell,LFP-07\n"
      "Date,2024-01-01\n"
      "\n"
      "Test_Time(s),Date_Time,Current(A),Voltage(V),Step_Index,Cycle_Index,Data_Point\n"
      "0.5,01/01/2024 10:00:00.500,0.1,3.3,1,1,1\n"
      "1.5,01/01/2024 10:00:01.500,0.1,3.31,2,1,2\n";
  const ImportResult r = import_file(write_temp("preamble.csv", text), {});
  EXPECT_EQ(r.format, "arbin-csv");
  EXPECT_EQ(r.rows, 2u);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2024, 1, 1, 10, 0, 0, 0}));
  EXPECT_EQ(testing::count_events(r, "step_change"), 1u);
}

}  // namespace
}  // namespace opsync::import
