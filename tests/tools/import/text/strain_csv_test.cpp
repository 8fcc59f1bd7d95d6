// Strain scan tables: relative seconds, ISO date-times and integer ns for start/end; labels;
// per-scan values with units from [unit], (unit) or _unit; and their errors.
#include <string>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "import/import_types.h"
#include "import_test_util.h"

namespace opsync::import {
namespace {

using testing::write_temp;

ImportOptions strain() {
  ImportOptions o;
  o.kind = Kind::Strain;
  return o;
}

TEST(StrainCsv, RelativeSecondsWithValuesAndLabels) {
  const std::string text =
      "scan,start,end,label,strain [%],d_spacing (A),peak_width_deg,comment\n"
      "1,0,9.5,pristine,0.012,2.4071,0.11,ok\n"
      "2,10,19.5,charged,0.034,,0.12,ok\n";
  ImportOptions o = strain();
  o.start_iso = "2024-05-01T08:00:00Z";
  const ImportResult r = import_file(write_temp("strain.csv", text), o);
  EXPECT_EQ(r.format, "strain-csv");
  EXPECT_EQ(r.rows, 2u);
  EXPECT_TRUE(r.channels.empty());
  ASSERT_EQ(r.scans.size(), 2u);
  const int64_t start = civil_to_ns(CivilTime{2024, 5, 1, 8, 0, 0, 0});
  const ScanData& s1 = r.scans[0];
  EXPECT_EQ(s1.number, 1);
  EXPECT_EQ(s1.label, "pristine");
  EXPECT_EQ(s1.start_ns, start);
  EXPECT_EQ(s1.end_ns, start + 9500000000LL);
  ASSERT_EQ(s1.values.size(), 3u);
  EXPECT_EQ(s1.values[0].first, "strain");
  EXPECT_DOUBLE_EQ(s1.values[0].second, 0.012);
  EXPECT_EQ(s1.value_units[0], "%");
  EXPECT_EQ(s1.values[1].first, "d_spacing");
  EXPECT_EQ(s1.value_units[1], "A");
  EXPECT_EQ(s1.values[2].first, "peak_width");
  EXPECT_EQ(s1.value_units[2], "deg");
  EXPECT_EQ(r.scans[1].values.size(), 2u);  // empty d_spacing: not a value of that scan
  EXPECT_EQ(r.t_first_ns, start);
  EXPECT_EQ(r.t_last_ns, start + 19500000000LL);
  EXPECT_TRUE(testing::has_assumption(r, "comment"));  // text column skipped, and said so
}

TEST(StrainCsv, IsoAndNanosecondTimes) {
  const std::string iso =
      "Scan #;Start;End\n"
      "7;2024-05-01T08:00:00.25Z;2024-05-01T08:00:10,5Z\n";
  const ImportResult a = import_file(write_temp("iso.csv", iso), strain());
  ASSERT_EQ(a.scans.size(), 1u);
  EXPECT_EQ(a.scans[0].number, 7);
  EXPECT_EQ(a.scans[0].start_ns, civil_to_ns(CivilTime{2024, 5, 1, 8, 0, 0, 250000000}));
  EXPECT_EQ(a.scans[0].end_ns, civil_to_ns(CivilTime{2024, 5, 1, 8, 0, 10, 500000000}));
  EXPECT_TRUE(a.has_absolute_start);

  const std::string ns = "scan_number,start_ns,end_ns,lattice [A]\n3,1714550400000000001,1714550401000000002,4.05\n";
  ImportOptions o = strain();
  o.clock_offset_s = 1.0;
  const ImportResult b = import_file(write_temp("ns.csv", ns), o);
  ASSERT_EQ(b.scans.size(), 1u);
  EXPECT_EQ(b.scans[0].start_ns, 1714550400000000001LL - 1000000000LL);
  EXPECT_EQ(b.scans[0].end_ns, 1714550401000000002LL - 1000000000LL);
  EXPECT_EQ(b.scans[0].values[0].first, "lattice");
}

TEST(StrainCsv, OpsyncScansExportRoundTrips) {
  // The shape of opsync's own scans.csv export: exact ns, ISO text beside it, name[unit] values.
  const std::string text =
      "scan,start_ns,end_ns,start_utc,end_utc,label,strain[%],a[angstrom]\n"
      "1,1714550400000000001,1714550409500000000,2024-05-01T08:00:00.000000001Z,"
      "2024-05-01T08:00:09.500000000Z,\"pristine, dry\",0.012000000000000000,4.0499999999999998\n"
      "2,1714550410000000000,1714550419500000000,2024-05-01T08:00:10.000000000Z,"
      "2024-05-01T08:00:19.500000000Z,,,4.0510000000000002\n";
  const ImportResult r = import_file(write_temp("scans.csv", text), strain());
  ASSERT_EQ(r.scans.size(), 2u);
  EXPECT_EQ(r.scans[0].start_ns, 1714550400000000001LL);
  EXPECT_EQ(r.scans[0].end_ns, 1714550409500000000LL);
  EXPECT_EQ(r.scans[0].label, "pristine, dry");
  ASSERT_EQ(r.scans[0].values.size(), 2u);
  EXPECT_EQ(r.scans[0].values[1].first, "a");
  EXPECT_EQ(r.scans[0].value_units[1], "angstrom");
  EXPECT_EQ(r.scans[0].values[1].second, 4.0499999999999998);
  ASSERT_EQ(r.scans[1].values.size(), 1u);  // empty strain cell: no value for scan 2
  EXPECT_EQ(r.scans[1].values[0].second, 4.0510000000000002);
}

TEST(StrainCsv, NoScanNumberColumnNumbersInOrder) {
  const std::string text = "start [min],end [min]\n0,1\n2,3\n";
  const ImportResult r = import_file(write_temp("nonum.csv", text), strain());
  ASSERT_EQ(r.scans.size(), 2u);
  EXPECT_EQ(r.scans[1].number, 2);
  EXPECT_EQ(r.scans[1].start_ns, 120 * kNsPerS);
  EXPECT_FALSE(r.has_absolute_start);
  EXPECT_TRUE(testing::has_assumption(r, "numbered 1, 2"));
}

TEST(StrainCsv, Errors) {
  auto check = [](const std::string& text, size_t line, const std::string& column, const std::string& part) {
    const auto e = testing::import_error(write_temp("bad_strain.csv", text), strain());
    ASSERT_TRUE(e) << text;
    EXPECT_EQ(e->line(), line) << e->what();
    EXPECT_EQ(e->column(), column) << e->what();
    EXPECT_NE(std::string(e->what()).find(part), std::string::npos) << e->what();
  };
  check("scan,start\n1,0\n", 1, "", "no scan end column");
  check("scan,start,end\n1,5,4\n", 2, "end", "ends before it starts");
  check("scan,start,end\n1,0,\n", 2, "end", "missing");
  check("scan,start,end,strain\n1,0,1,0.1\n2,1,2,0.1x\n", 3, "strain", "'0.1x' is not a number");
  check("scan,start,end\n1.5,0,1\n", 2, "scan", "not a scan number");
  check("scan,start,end\n1,0,2024-01-01T00:00:00Z\n", 2, "end", "mix");
}

}  // namespace
}  // namespace opsync::import
