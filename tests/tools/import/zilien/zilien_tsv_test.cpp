// Zilien EC-MS .tsv against ORACLES.md (zilien_ecms.tsv): mass series with their own times and
// counts, absolute ns from start_time_unix; the EC-lab series as cycler data; a small synthetic
// file for unit conversion and the ion current unit check.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "import/import_types.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

using testing::find_channel;

ImportOptions ms_options() {
  ImportOptions o;
  o.kind = Kind::Ms;
  return o;
}

TEST(ZilienTsv, MassSeriesMatchOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_file(opsync::test::fixture("ms/zilien_ecms.tsv"), ms_options());
  EXPECT_EQ(r.format, "zilien-tsv");
  EXPECT_EQ(r.rows, 447u);
  EXPECT_TRUE(r.has_absolute_start);
  EXPECT_EQ(r.start_ns, 1705501321146614000LL);  // start_time_unix, UTC, exact
  for (int mass : {2, 4, 18, 28, 32, 40, 44}) {
    const ChannelData* c = find_channel(r, "ion_current_m" + std::to_string(mass));
    ASSERT_TRUE(c) << mass;
    EXPECT_EQ(c->unit, "A");
    EXPECT_EQ(c->values.size(), 48u) << mass;
  }
  EXPECT_EQ(r.channels.size(), 7u);
  const ChannelData* m32 = find_channel(r, "ion_current_m32");
  ASSERT_TRUE(m32);
  EXPECT_EQ(m32->quantity, "O2 ion current (m/z 32)");
  EXPECT_EQ(m32->t_ns.front(), 1705501321146614000LL + 1109033000LL);  // 1.109033 s after start
  EXPECT_REL(static_cast<double>(m32->t_ns.back() - r.start_ns) / 1e9, 32.58793, 1e-6);
  EXPECT_REL(testing::min_value(*m32), 1.002156e-10, 1e-6);
  EXPECT_REL(testing::max_value(*m32), 1.016383e-10, 1e-6);
  const ChannelData* m2 = find_channel(r, "ion_current_m2");
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->t_ns.front() - r.start_ns, 703849300);  // C0M2 first time 0.7038493 s
  const ChannelData* m28 = find_channel(r, "ion_current_m28");
  ASSERT_TRUE(m28);
  EXPECT_EQ(m28->quantity, "CO/N2 ion current (m/z 28)");
  EXPECT_EQ(r.t_first_ns, m2->t_ns.front());
}

TEST(ZilienTsv, EcLabSeriesAsCycler) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_file(opsync::test::fixture("ms/zilien_ecms.tsv"), {});
  EXPECT_EQ(r.rows, 447u);
  EXPECT_EQ(r.start_ns, 1705501321146614000LL);
  // EC-lab rows span 4.87725762 .. 27.1790571 s of Zilien time; same Ewe and <I> as the .mpt.
  EXPECT_REL(static_cast<double>(r.t_first_ns - r.start_ns) / 1e9, 4.87725762, 1e-6);
  EXPECT_REL(static_cast<double>(r.t_last_ns - r.start_ns) / 1e9, 27.1790571, 1e-6);
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_EQ(v->values.size(), 447u);
  EXPECT_REL(testing::min_value(*v), -0.00017848902, 1e-6);
  EXPECT_REL(testing::max_value(*v), 0.44594398, 1e-6);
  EXPECT_REL(testing::max_value(*i), 8.77260789e-05, 1e-6);
}

std::string small_zilien(const std::string& unit) {
  std::string s;
  auto meta = [&](const std::string& key, const std::string& series, const std::string& type,
                  const std::string& value) { s += key + "\tdesc\t" + series + "\t" + type + "\t" + value + "\n"; };
  meta("num_header_lines", "", "int", "8");
  meta("num_data_header_lines", "", "int", "2");
  meta("data_start", "", "int", "10");
  meta("file_format_version", "", "int", "2");
  meta("label_suffix", "C0M32", "string", "O2");
  meta("start_time_unix", "", "double", "1700000000.5");
  meta("C0M32_count", "C0M32", "int", "2");
  meta("pot_count", "pot", "int", "3");
  s += "pot\t\t\tC0M32\t\n";
  s += "Time [s]\tVoltage [V]\tCurrent [mA]\tTime [s]\tM32-O2 [" + unit + "]\n";
  s += "0.25\t1.0\t0.5\t0.5\t2.5\n";
  s += "0.75\t1.1\t0.5\t1.5\tNaN\n";
  s += "1.25\t1.2\t-0.5\tNaN\tNaN\n";
  return s;
}

TEST(ZilienTsv, ConvertsIonCurrentUnitAndHonoursCounts) {
  const std::string path = testing::write_temp("small.tsv", small_zilien("nA"));
  const ImportResult r = import_file(path, ms_options());
  ASSERT_EQ(r.channels.size(), 1u);
  const ChannelData& c = r.channels[0];
  EXPECT_EQ(c.name, "ion_current_m32");
  ASSERT_EQ(c.values.size(), 1u);  // second sample is NaN: no value
  EXPECT_DOUBLE_EQ(c.values[0], 2.5e-9);
  EXPECT_EQ(c.t_ns[0], 1700000000500000000LL + 500000000LL);
  EXPECT_EQ(r.rows, 3u);
}

TEST(ZilienTsv, Version1StartFromTheFileName) {
  // v1 files have no start_time_unix: the name starts with the local start time.
  std::string text = small_zilien("A");
  const size_t p = text.find("start_time_unix");
  text.replace(p, text.find('\n', p) - p, "comment\tdesc\t\tstring\tnone");
  ImportOptions o = ms_options();
  o.time_zone = "+01:00";
  const ImportResult r = import_file(testing::write_temp("2022-04-06 16_17_23 full set.tsv", text), o);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2022, 4, 6, 15, 17, 23, 0}));
  EXPECT_TRUE(testing::has_assumption(r, "file name"));
}

TEST(ZilienTsv, PotSeriesAsCyclerWithAndWithoutCount) {
  std::string text = small_zilien("A");
  const ImportResult a = import_file(testing::write_temp("pot.tsv", text), {});
  EXPECT_EQ(a.rows, 3u);
  const ChannelData* i = find_channel(a, "current");
  ASSERT_TRUE(i);
  EXPECT_DOUBLE_EQ(i->values[2], -0.5e-3);
  EXPECT_EQ(i->t_ns[2], 1700000000500000000LL + 1250000000LL);
  EXPECT_TRUE(testing::has_assumption(a, "series 'pot'"));
  // Without pot_count the series runs to its first empty time cell.
  text.replace(text.find("pot_count"), 9, "pot_other");
  text.replace(text.find("1.25\t1.2"), 4, "NaN");
  const ImportResult b = import_file(testing::write_temp("pot2.tsv", text), {});
  EXPECT_EQ(b.rows, 2u);
}

TEST(ZilienTsv, RejectsNonCurrentUnitOfAMassSeries) {
  const std::string path = testing::write_temp("torr.tsv", small_zilien("torr"));
  const auto e = testing::import_error(path, ms_options());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 10u);  // the column-name row
  EXPECT_EQ(e->column(), "M32-O2 [torr]");
  EXPECT_NE(std::string(e->what()).find("not an ion current unit"), std::string::npos);
}

TEST(ZilienTsv, MetadataLineWithWrongFieldCount) {
  std::string text = small_zilien("A");
  text.replace(text.find("label_suffix\tdesc"), 17, "label_suffix");  // drop one field
  const std::string path = testing::write_temp("badmeta.tsv", text);
  const auto e = testing::import_error(path, ms_options());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 5u);
  EXPECT_NE(std::string(e->what()).find("5 tab-separated fields"), std::string::npos);
}

}  // namespace
}  // namespace opsync::import
