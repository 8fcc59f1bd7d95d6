// Mass-spectrometer CSV: long format (time, mass, ion current) and wide format (one column per
// mass in the spellings users write), unit conversion and the ion current unit check.
#include <string>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "import/import_types.h"
#include "import_test_util.h"

namespace opsync::import {
namespace {

using testing::find_channel;
using testing::write_temp;

ImportOptions ms() {
  ImportOptions o;
  o.kind = Kind::Ms;
  return o;
}

TEST(MsCsv, LongFormatOneChannelPerMass) {
  const std::string text =
      "time,mass,ion_current\n"
      "0.0,32,1.0e-10\n"
      "0.1,44,2.0e-12\n"
      "0.2,32,1.1e-10\n"
      "0.3,44,\n"
      "0.4,18,5e-11\n";
  const ImportResult r = import_file(write_temp("long.csv", text), ms());
  EXPECT_EQ(r.format, "ms-csv");
  EXPECT_EQ(r.rows, 5u);
  ASSERT_EQ(r.channels.size(), 3u);
  const ChannelData* m32 = find_channel(r, "ion_current_m32");
  const ChannelData* m44 = find_channel(r, "ion_current_m44");
  ASSERT_TRUE(m32 && m44);
  EXPECT_EQ(m32->unit, "A");
  EXPECT_EQ(m32->quantity, "ion current (m/z 32)");
  ASSERT_EQ(m32->values.size(), 2u);
  EXPECT_EQ(m32->t_ns[1], 200000000);
  EXPECT_DOUBLE_EQ(m32->values[1], 1.1e-10);
  EXPECT_EQ(m44->values.size(), 1u);  // the empty cell is no sample
}

TEST(MsCsv, LongFormatWithMzAndPicoamps) {
  const std::string text = "Time [s];m/z;intensity [pA]\n1;28;460,5\n2;28;461\n";
  const ImportResult r = import_file(write_temp("long_pa.csv", text), ms());
  const ChannelData* m28 = find_channel(r, "ion_current_m28");
  ASSERT_TRUE(m28);
  EXPECT_DOUBLE_EQ(m28->values[0], 460.5e-12);
}

TEST(MsCsv, WideFormatHeaderSpellings) {
  const std::string text =
      "timestamp,m2,M4,mass 18,28,M32-O2 [A],ion_current_m44_a,M40 (nA),pressure_mbar\n"
      "2024-01-17T14:22:01.5Z,1e-12,2e-14,1e-11,4e-10,1e-10,5e-13,7,1e-6\n"
      "2024-01-17T14:22:02.5Z,1.1e-12,2.1e-14,1.1e-11,4.1e-10,1.01e-10,5.1e-13,7.1,1e-6\n";
  const ImportResult r = import_file(write_temp("wide.csv", text), ms());
  EXPECT_EQ(r.channels.size(), 7u);
  for (const char* n : {"ion_current_m2", "ion_current_m4", "ion_current_m18", "ion_current_m28",
                        "ion_current_m32", "ion_current_m44", "ion_current_m40"}) {
    const ChannelData* c = find_channel(r, n);
    ASSERT_TRUE(c) << n;
    EXPECT_EQ(c->values.size(), 2u) << n;
  }
  const ChannelData* m32 = find_channel(r, "ion_current_m32");
  const ChannelData* m40 = find_channel(r, "ion_current_m40");
  ASSERT_TRUE(m32 && m40);
  EXPECT_EQ(m32->quantity, "O2 ion current (m/z 32)");
  EXPECT_DOUBLE_EQ(m40->values[1], 7.1e-9);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2024, 1, 17, 14, 22, 1, 500000000}));
  EXPECT_TRUE(testing::has_assumption(r, "pressure_mbar"));  // listed as skipped
}

TEST(MsCsv, WideFormatRejectsNonCurrentUnit) {
  const std::string text = "time (s),M32 [torr],M44 [A]\n0,1,2\n";
  const auto e = testing::import_error(write_temp("torr.csv", text), ms());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 1u);
  EXPECT_EQ(e->column(), "M32 [torr]");
  EXPECT_NE(std::string(e->what()).find("not an ion current unit"), std::string::npos) << e->what();
}

TEST(MsCsv, NoMassColumnsIsAnError) {
  const std::string text = "time,pressure\n0,1\n";
  const auto e = testing::import_error(write_temp("nomass.csv", text), ms());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 1u);
  EXPECT_NE(std::string(e->what()).find("no ion current columns"), std::string::npos) << e->what();
}

}  // namespace
}  // namespace opsync::import
