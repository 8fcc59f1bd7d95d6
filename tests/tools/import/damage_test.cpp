// Damaged copies of the shared fixtures, made here at test time (never committed): a damaged
// vendor file is refused with what is inconsistent, where, and how many rows; with salvage the
// readable rows are imported and every skipped part is an 'import_skipped' event. Text files
// cut in their last line are refused (or, salvaging, imported without it).
#include <numeric>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "import/import_types.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

std::string fixture_bytes(const std::string& name) { return testing::read_all(opsync::test::fixture("cycler/" + name)); }

ImportOptions salvaging() {
  ImportOptions o;
  o.salvage = true;
  return o;
}

size_t rows_affected(const ImportResult& r) {
  return std::accumulate(r.damage.begin(), r.damage.end(), size_t{0},
                         [](size_t n, const Damage& d) { return n + d.rows; });
}

// Refused without salvage (message names the damage and the rows), and with salvage every row
// is either imported or counted as affected, and each damage is an event.
void expect_refused_then_salvaged(const std::string& name, const std::string& bytes, size_t intact_rows,
                                  const std::string& message_part, size_t expect_rows) {
  const std::string path = testing::write_temp(name, bytes);
  const auto e = testing::import_error(path, ImportOptions{});
  ASSERT_TRUE(e);
  const std::string what = e->what();
  EXPECT_NE(what.find("the file is damaged"), std::string::npos) << what;
  EXPECT_NE(what.find(message_part), std::string::npos) << what;
  EXPECT_NE(what.find("row(s) affected"), std::string::npos) << what;
  EXPECT_NE(what.find("--salvage"), std::string::npos) << what;

  const ImportResult r = import_file(path, salvaging());
  EXPECT_EQ(r.rows, expect_rows) << name;
  EXPECT_EQ(r.rows + rows_affected(r), intact_rows) << name << ": rows read + rows affected must be the file's rows";
  ASSERT_FALSE(r.damage.empty());
  EXPECT_EQ(testing::count_events(r, "import_skipped"), r.damage.size());
}

constexpr size_t kV130Rows = 6670, kV130Record = 56, kV130Data = 1024;
constexpr size_t kV29Rows = 439, kV29Record = 86, kV29Data = 85471;

TEST(Damage, NdaByteInsertedIsRefusedAndSalvaged) {
  OPSYNC_REQUIRE_FIXTURES();
  std::string bytes = fixture_bytes("neware_v130.nda");
  ASSERT_EQ(import_file(opsync::test::fixture("cycler/neware_v130.nda"), {}).rows, kV130Rows);
  // One byte inserted inside record 14: every record after it is out of step.
  bytes.insert(kV130Data + 13 * kV130Record + 30, 1, '\x42');
  expect_refused_then_salvaged("inserted.nda", bytes, kV130Rows, "do not continue the 56-byte records",
                               kV130Rows - 1);
}

TEST(Damage, NdaBlockWrittenTwiceIsRefusedAndSalvaged) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string original = fixture_bytes("neware_v130.nda");
  // A 64 KiB block duplicated in place (not a whole number of records).
  const size_t from = kV130Data + 1000 * kV130Record + 17;
  const std::string bytes = original.substr(0, from + 65536) + original.substr(from, 65536) + original.substr(from + 65536);
  expect_refused_then_salvaged("dup.nda", bytes, kV130Rows, "written twice", kV130Rows);
}

TEST(Damage, NdaV29ZeroedBlockIsRefusedAndSalvaged) {
  OPSYNC_REQUIRE_FIXTURES();
  std::string bytes = fixture_bytes("neware_v29.nda");
  ASSERT_EQ(import_file(opsync::test::fixture("cycler/neware_v29.nda"), {}).rows, kV29Rows);
  bytes.replace(kV29Data + 100 * kV29Record + 10, 4096, 4096, '\0');
  const std::string path = testing::write_temp("zeroed.nda", bytes);
  const auto e = testing::import_error(path, ImportOptions{});
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("Index jumps from 100 to"), std::string::npos) << e->what();
  const ImportResult r = import_file(path, salvaging());
  EXPECT_LT(r.rows, kV29Rows - 40);  // about 48 records lie in the zeroed 4 KiB
  EXPECT_EQ(r.rows + rows_affected(r), kV29Rows);
}

TEST(Damage, ResDataPageDroppedFromThePageMapIsRefused) {
  OPSYNC_REQUIRE_FIXTURES();
  // Zero the last data page's owner: libmdb skips it silently, the row count and the page scan say so.
  std::string bytes = fixture_bytes("arbin_5cycles_cathode.res");
  size_t last_data = 0;
  for (size_t p = 1; p < bytes.size() / 4096; ++p)
    if (bytes[p * 4096] == 0x01 && bytes[p * 4096 + 1] == 0x01) last_data = p;
  ASSERT_GT(last_data, 0u);
  bytes.replace(last_data * 4096, 1, 1, '\x07');
  const std::string path = testing::write_temp("page.res", bytes);
  const auto e = testing::import_error(path, ImportOptions{});
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("declares 2150 rows but only"), std::string::npos) << e->what();
  const ImportResult r = import_file(path, salvaging());
  EXPECT_LT(r.rows, 2150u);
  EXPECT_EQ(r.rows + rows_affected(r), 2150u);
}

// The mechanism, not one input: single bytes changed or inserted at random places of every
// binary fixture give an error (the file says it is damaged) or every row; never fewer rows
// without a word. (Values inside a record cannot be checked: no format carries checksums.)
TEST(Damage, RandomDamageIsNeverSilent) {
  OPSYNC_REQUIRE_FIXTURES();
  std::mt19937 rng(20261207);
  struct Case {
    const char* file;
    size_t rows;
  };
  for (const Case& c : {Case{"neware_v130.nda", kV130Rows}, Case{"neware_v29.nda", kV29Rows},
                        Case{"arbin_5cycles_cathode.res", 2150}}) {
    const std::string original = fixture_bytes(c.file);
    const std::string name = std::string("random") + std::string(c.file).substr(std::string(c.file).find('.'));
    for (int round = 0; round < 40; ++round) {
      std::string bytes = original;
      const size_t at = rng() % bytes.size();
      if (round % 2) {
        bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1 + rng() % 255));
      } else {
        bytes.insert(at, 1, static_cast<char>(rng() & 0xff));
      }
      const std::string path = testing::write_temp(name, bytes);
      try {
        const ImportResult r = import_file(path, {});
        EXPECT_EQ(r.rows, c.rows) << c.file << (round % 2 ? ": byte changed at " : ": byte inserted at ") << at;
      } catch (const ImportError&) {
      }
    }
  }
}

TEST(Damage, TextCutMidNumberIsRefusedOrDroppedWhenSalvaging) {
  // Cut inside the last value ("1.0" of "1.000000"): every field is there, so only the line's
  // shape tells.
  const std::string text = "time/s,Voltage(V),Current(mA)\n0,3.000000,1.000000\n1,3.100000,1.000000\n2,3.200000,1.0";
  const std::string path = testing::write_temp("cut.csv", text);
  const auto e = testing::import_error(path, ImportOptions{});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 4u);
  EXPECT_NE(std::string(e->what()).find("no line ending"), std::string::npos) << e->what();
  const ImportResult r = import_file(path, salvaging());
  EXPECT_EQ(r.rows, 2u);
  const ChannelData* v = testing::find_channel(r, "voltage");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->values.back(), 3.1);  // the row of line 3, not the cut one
  EXPECT_EQ(v->values.size(), 2u);
  EXPECT_EQ(testing::count_events(r, "import_skipped"), 1u);
}

// A complete last line without a line ending (EC-Lab writes them) is a whole row.
TEST(Damage, CompleteLastLineWithoutLineEndIsKept) {
  const std::string path =
      testing::write_temp("whole.csv", "time/s,Voltage(V),Current(mA)\n0,3.000000,1.000000\n1,3.100000,1.000000");
  const ImportResult r = import_file(path, {});
  EXPECT_EQ(r.rows, 2u);
  EXPECT_TRUE(r.damage.empty());
}

TEST(Damage, FixtureWithoutFinalLineEndImportsEveryRow) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string bytes = fixture_bytes("biologic_gcpl_pair.mpt");
  ASSERT_NE(bytes.back(), '\n');
  const ImportResult whole = import_file(opsync::test::fixture("cycler/biologic_gcpl_pair.mpt"), {});
  // Cut inside the last value: refused.
  const std::string path = testing::write_temp("cut.mpt", bytes.substr(0, bytes.size() - 5));
  const auto e = testing::import_error(path, ImportOptions{});
  ASSERT_TRUE(e);
  const ImportResult salvaged = import_file(path, salvaging());
  EXPECT_EQ(salvaged.rows + 1, whole.rows);
}

}  // namespace
}  // namespace opsync::import
