// BioLogic .mpt text export against ORACLES.md (biologic_gcpl_pair.mpt, zilien_ecms_01_C01.mpt),
// plus synthetic files for the acquisition start, time zone, decimal comma and dq-derived current.
#include <string>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "import/import_types.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

using testing::count_sign;
using testing::current_segments;
using testing::find_channel;

TEST(BiologicMpt, GcplPairMatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_file(opsync::test::fixture("cycler/biologic_gcpl_pair.mpt"), {});
  EXPECT_EQ(r.format, "biologic-mpt");
  EXPECT_EQ(r.rows, 2533u);
  // 3 header lines: no "Acquisition started on", so no absolute start.
  EXPECT_FALSE(r.has_absolute_start);
  EXPECT_EQ(r.start_ns, 0);
  EXPECT_TRUE(testing::has_assumption(r, "--start"));
  EXPECT_EQ(r.t_first_ns, 0);
  EXPECT_REL(static_cast<double>(r.t_last_ns) / 1e9, 302518.948, 1e-6);

  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_EQ(v->unit, "V");
  EXPECT_EQ(i->unit, "A");
  EXPECT_EQ(i->values.size(), 2533u);
  EXPECT_REL(testing::min_value(*v), 0.0038288473, 1e-6);
  EXPECT_REL(testing::max_value(*v), 2.3545616, 1e-6);
  EXPECT_REL(testing::min_value(*i), -0.000250053554, 1e-6);
  EXPECT_REL(testing::max_value(*i), 0.00022177228, 1e-6);

  const auto segs = current_segments(*i);
  EXPECT_EQ(segs.size(), 9u);
  EXPECT_EQ(count_sign(segs, +1), 5u);
  EXPECT_EQ(count_sign(segs, -1), 4u);
  ASSERT_FALSE(segs.empty());
  EXPECT_EQ(segs[0].first, 5u);  // rows 5-384
  EXPECT_EQ(segs[0].last, 384u);
  EXPECT_REL(segs[0].charge_ah, -0.00325138049, 1e-5);
  EXPECT_REL(segs[1].charge_ah, 0.000369541539, 1e-5);

  // (Q-Qo)/mA.h at the first segment's last row: -3.25196008 mAh -> coulomb.
  const ChannelData* q = find_channel(r, "capacity");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->unit, "C");
  EXPECT_REL(q->values[384], -3.25196008 * 3.6, 1e-6);
  // ORACLES: Ns changes 10 times; cycle number takes 5 distinct values, so at least 4 changes.
  EXPECT_EQ(testing::count_events(r, "step_change"), 10u);
  EXPECT_GE(testing::count_events(r, "cycle_change"), 4u);
}

TEST(BiologicMpt, DerivesCurrentFromDqWhenThereIsNoCurrentColumn) {
  OPSYNC_REQUIRE_FIXTURES();
  // The same file with its <I>/mA column renamed: EC-Lab's <I> equals dq/dt to 1e-15.
  std::string text = testing::read_all(opsync::test::fixture("cycler/biologic_gcpl_pair.mpt"));
  const size_t p = text.find("<I>/mA");
  ASSERT_NE(p, std::string::npos);
  text.replace(p, 6, "<X>/mA");
  const std::string path = testing::write_temp("no_current.mpt", text);
  const ImportResult r = import_file(path, {});
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_TRUE(testing::has_assumption(r, "derived as I = dq / dt"));
  EXPECT_EQ(i->values[0], 0.0);
  EXPECT_REL(testing::min_value(*i), -0.000250053554, 1e-6);
  EXPECT_REL(testing::max_value(*i), 0.00022177228, 1e-6);
  const auto segs = current_segments(*i);
  EXPECT_EQ(segs.size(), 9u);
  EXPECT_REL(segs[0].charge_ah, -0.00325138049, 1e-5);
}

TEST(BiologicMpt, ZilienCompanionWithDecimalCommaAndStart) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_file(opsync::test::fixture("ms/zilien_ecms_01_C01.mpt"), {});
  EXPECT_EQ(r.rows, 447u);
  // Acquisition started on : 01/17/2024 15:22:05.748, naive, read as UTC by default.
  EXPECT_TRUE(r.has_absolute_start);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2024, 1, 17, 15, 22, 5, 748000000}));
  EXPECT_TRUE(testing::has_assumption(r, "naive local time; assumed zone UTC"));
  EXPECT_EQ(r.t_first_ns, r.start_ns);
  EXPECT_REL(static_cast<double>(r.t_last_ns - r.start_ns) / 1e9, 22.3017994, 1e-6);
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_REL(testing::min_value(*v), -0.00017848902, 1e-6);
  EXPECT_REL(testing::max_value(*v), 0.44594398, 1e-6);
  EXPECT_REL(testing::min_value(*i), -1.08831173e-08, 1e-6);
  EXPECT_REL(testing::max_value(*i), 8.77260789e-05, 1e-6);
  const auto segs = current_segments(*i);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].sign, -1);
  EXPECT_EQ(segs[0].charge_ah, 0.0);  // a single row
  EXPECT_REL(segs[1].charge_ah, 2.71767991e-07, 1e-5);
  // Second row's time "2,749999930529157E-002" s read with its decimal comma.
  EXPECT_EQ(i->t_ns[1] - r.start_ns, 27499999);
}

std::string small_mpt(const std::string& start_line) {
  return "EC-Lab ASCII FILE\r\n"
         "Nb header lines : 6                           \r\n"
         "\r\n"
         "Galvanostatic Cycling with Potential Limitation\r\n" +
         start_line +
         "\r\n"
         "mode\ttime/s\tEwe/V\t<I>/mA\tcycle number\tNs\t\r\n"
         "1\t0,000000000000000E+000\t3,301\t1,5\t0\t0\r\n"
         "1\t1,000000000000000E+001\t3,405\t1,5\t0\t1\r\n"
         "1\t2,000000000000000E+001\t3,5\t-1,5\t1\t1\r\n";
}

TEST(BiologicMpt, AcquisitionStartInTheGivenZone) {
  const std::string path = testing::write_temp("start.mpt", small_mpt("Acquisition started on : 06/01/2024 12:00:00.250"));
  ImportOptions o;
  o.time_zone = "+02:00";
  const ImportResult r = import_file(path, o);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2024, 6, 1, 10, 0, 0, 250000000}));
  EXPECT_TRUE(testing::has_assumption(r, "assumed zone +02:00"));
  const ChannelData* v = find_channel(r, "voltage");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->values.size(), 3u);
  EXPECT_DOUBLE_EQ(v->values[0], 3.301);
  EXPECT_EQ(v->t_ns[2], r.start_ns + 20 * kNsPerS);
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_DOUBLE_EQ(i->values[2], -1.5e-3);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].kind, "step_change");
  EXPECT_EQ(r.events[0].detail, "step 0 -> 1");
  EXPECT_EQ(r.events[0].t_ns, r.start_ns + 10 * kNsPerS);
  EXPECT_EQ(r.events[1].kind, "cycle_change");
}

TEST(BiologicMpt, StartOptionOverridesTheHeader) {
  const std::string path = testing::write_temp("start2.mpt", small_mpt("Acquisition started on : 06/01/2024 12:00:00"));
  ImportOptions o;
  o.start_iso = "2024-06-02T00:00:00Z";
  const ImportResult r = import_file(path, o);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2024, 6, 2, 0, 0, 0, 0}));
  EXPECT_EQ(r.t_first_ns, r.start_ns);
  EXPECT_TRUE(testing::has_assumption(r, "from --start"));
}

TEST(BiologicMpt, AsMsIsRefused) {
  const std::string path = testing::write_temp("ms.mpt", small_mpt("Comments : none"));
  ImportOptions o;
  o.kind = Kind::Ms;
  const auto e = testing::import_error(path, o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 1u);
  EXPECT_NE(std::string(e->what()).find("import it as cycler"), std::string::npos);
}

}  // namespace
}  // namespace opsync::import
