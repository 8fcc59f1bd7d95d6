// Every bad-input path: the ImportError names the right line and column and says what was
// wrong and what to do. Also the inputs that look odd but are not errors.
#include <string>

#include <gtest/gtest.h>

#include "import/import_types.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

using testing::write_temp;

// Imports `text` as a cycler file and checks the error's line, column and message.
void expect_error(const std::string& name, const std::string& text, size_t line, const std::string& column,
                  const std::string& part, const ImportOptions& options = {}) {
  const auto e = testing::import_error(write_temp(name, text), options);
  ASSERT_TRUE(e) << name;
  EXPECT_EQ(e->line(), line) << e->what();
  EXPECT_EQ(e->column(), column) << e->what();
  EXPECT_NE(std::string(e->what()).find(part), std::string::npos) << e->what();
}

TEST(BadInput, UnparseableNumber) {
  expect_error("num.csv", "time,voltage,current\n0,3.3,1\n1,3.3x1,1\n", 3, "voltage", "'3.3x1' is not a number");
}

TEST(BadInput, WrongFieldCount) {
  expect_error("fields.csv", "time,voltage,current\n0,3.3,1\n1,3.3\n", 3, "", "row has 2 fields but the header (line 1) has 3");
  expect_error("fields2.csv", "time,voltage,current\n0,3.3,1,7\n", 2, "", "row has 4 fields");
}

TEST(BadInput, TrailingEmptyFieldsAreNotAnError) {
  // EC-Lab and Maccor rows end with a tab; extra empty fields are harmless.
  const ImportResult r = import_file(write_temp("trail.tsv", "time/s\tEwe/V\tI/mA\t\n0\t3\t1\n1\t3\t1\t\t\n"), {});
  EXPECT_EQ(r.rows, 2u);
}

TEST(BadInput, NoTimeColumn) {
  expect_error("notime.csv", "x,voltage,current\n0,3,1\n", 1, "", "no time column found");
  expect_error("notime2.csv", "x,voltage,current\n0,3,1\n", 1, "", "--columns time=HEADER");
  expect_error("notime3.csv", "x,voltage,current\n0,3,1\n", 1, "", "'x', 'voltage', 'current'");
}

TEST(BadInput, NoVoltageOrCurrentForCycler) {
  expect_error("nov.csv", "time,current\n0,1\n", 1, "", "no voltage column found");
  expect_error("noi.csv", "time,voltage\n0,3\n", 1, "", "no current column found");
  // Declaring the current absent makes a voltage-only file importable.
  ImportOptions o;
  o.columns = {{"current", "none"}};
  const ImportResult r = import_file(write_temp("ocv.csv", "time,voltage\n0,3\n"), o);
  EXPECT_EQ(r.channels.size(), 1u);
}

TEST(BadInput, EmptyFileAndHeaderOnly) {
  expect_error("empty.csv", "", 0, "", "file is empty");
  expect_error("blank.csv", "\r\n \r\n", 0, "", "file is empty");
  expect_error("header.csv", "time,voltage,current\n", 1, "", "no data rows");
}

TEST(BadInput, BinaryFile) {
  // A binary file with no known signature: refused, saying which binaries are read.
  const std::string bytes("\x7f" "ELF\0\0\0\x01 some binary", 20);
  expect_error("cell.csv", bytes, 0, "", "looks binary");
  expect_error("cell2.csv", bytes, 0, "", "Neware .nda/.ndax and Arbin .res by their signatures");
  expect_error("cell3.mpr", bytes, 0, "", "without EC-Lab's 'BIO-LOGIC MODULAR FILE' signature");
  // A cut-off .mpr is read by the .mpr reader and refused as truncated.
  expect_error("cell4.mpr", std::string("BIO-LOGIC MODULAR FILE\x1a\0\0\0", 27), 0, "", "truncated");
}

TEST(BadInput, BinaryCyclerFixtureAsMsRefused) {
  OPSYNC_REQUIRE_FIXTURES();
  ImportOptions ms;
  ms.kind = Kind::Ms;
  const auto e = testing::import_error(opsync::test::fixture("cycler/neware_v29.nda"), ms);
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("Neware"), std::string::npos) << e->what();
}

TEST(BadInput, UnknownUnitInHeader) {
  expect_error("unit.csv", "time [s],Voltage [furlong],current [A]\n0,3,1\n", 1, "Voltage [furlong]",
               "unknown unit 'furlong'");
  expect_error("tunit.csv", "Time [fortnights],Voltage [V],current [A]\n0,3,1\n", 1, "Time [fortnights]",
               "unknown unit 'fortnights'");
}

TEST(BadInput, ExplicitMappingOfAMissingHeader) {
  ImportOptions o;
  o.columns = {{"time", "Elapsed"}};
  expect_error("map.csv", "time,voltage,current\n0,3,1\n", 1, "Elapsed", "not in the file", o);
  expect_error("map2.csv", "time,voltage,current\n0,3,1\n", 1, "Elapsed", "'time', 'voltage', 'current'", o);
}

TEST(BadInput, TimeMissingOrNotATime) {
  expect_error("tnan.csv", "time,voltage,current\n0,3,1\nNaN,3,1\n", 3, "time", "time is missing");
  expect_error("tempty.csv", "time,voltage,current\n0,3,1\n,3,1\n", 3, "time", "every row needs a time");
  expect_error("tbad.csv", "time,voltage,current\n0,3,1\n1:2,3,1\n", 3, "time", "'1:2' is not a time");
  expect_error("dtbad.csv", "DateTime,voltage,current\n2024-01-01 00:00:00,3,1\nyesterday,3,1\n", 3,
               "DateTime", "'yesterday' is not a date-time");
}

TEST(BadInput, NonMonotonicTimeIsKept) {
  const ImportResult r = import_file(write_temp("back.csv", "time,voltage,current\n0,3,1\n10,3,1\n4,3,1\n"), {});
  const ChannelData* v = testing::find_channel(r, "voltage");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->t_ns[2], 4000000000LL);
  EXPECT_EQ(r.t_last_ns, 10000000000LL);
}

TEST(BadInput, UnknownZoneAndBadStart) {
  ImportOptions o;
  o.time_zone = "Mars/Olympus_Mons";
  expect_error("zone.csv", "time,voltage,current\n0,3,1\n", 0, "", "unknown time zone 'Mars/Olympus_Mons'", o);
  ImportOptions s;
  s.start_iso = "last tuesday";
  expect_error("start.csv", "time,voltage,current\n0,3,1\n", 0, "", "is not a date-time", s);
}

TEST(BadInput, MissingFile) {
  const auto e = testing::import_error(::testing::TempDir() + "does_not_exist.csv", {});
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("file not found"), std::string::npos);
}

TEST(BadInput, BiologicHeaderProblems) {
  expect_error("nb.mpt", "EC-Lab ASCII FILE\nsomething else\n", 2, "", "Nb header lines : N");
  expect_error("nb2.mpt", "EC-Lab ASCII FILE\nNb header lines : 40\nmode\ttime/s\n", 2, "", "only 3 lines");
  expect_error("acq.mpt",
               "EC-Lab ASCII FILE\nNb header lines : 4\nAcquisition started on : someday\n"
               "time/s\tEwe/V\tI/mA\n0\t3\t1\n",
               3, "", "cannot read the acquisition start 'someday'");
}

TEST(BadInput, NoPartialResultOnLateError) {
  // An error on the last row still throws: nothing of the rows before is returned.
  std::string text = "time,voltage,current\n";
  for (int i = 0; i < 1000; ++i) text += std::to_string(i) + ",3.3,1\n";
  text += "1000,oops,1\n";
  expect_error("late.csv", text, 1002, "voltage", "'oops' is not a number");
}

}  // namespace
}  // namespace opsync::import
