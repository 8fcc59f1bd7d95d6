// Maccor text exports against ORACLES.md (maccor_export.txt, maccor_diagnostic.052), plus a
// synthetic "Rec"/"Md" variant with 12-hour DPT Time and bracketed units.
#include <string>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "import/import_types.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

using testing::current_segments;
using testing::find_channel;

TEST(MaccorText, ExportMatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_file(opsync::test::fixture("cycler/maccor_export.txt"), {});
  EXPECT_EQ(r.format, "maccor-text");
  EXPECT_EQ(r.rows, 6704u);
  // Start: first row's DPt Time 12/11/2020 12:22:12 (naive) minus its TestTime 0.
  EXPECT_TRUE(r.has_absolute_start);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2020, 12, 11, 12, 22, 12, 0}));
  EXPECT_EQ(r.t_first_ns, r.start_ns);
  EXPECT_REL(static_cast<double>(r.t_last_ns - r.start_ns) / 1e9, 183171.57, 1e-6);

  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_REL(testing::min_value(*v), 2.50004, 1e-6);
  EXPECT_REL(testing::max_value(*v), 4.20012, 1e-6);
  EXPECT_REL(testing::min_value(*i), -10.01831, 1e-6);
  EXPECT_REL(testing::max_value(*i), 1.50233, 1e-6);

  const auto segs = current_segments(*i);
  EXPECT_EQ(segs.size(), 9u);
  EXPECT_EQ(testing::count_sign(segs, +1), 4u);
  EXPECT_EQ(testing::count_sign(segs, -1), 5u);
  ASSERT_GE(segs.size(), 3u);
  EXPECT_EQ(segs[0].first, 2u);
  EXPECT_EQ(segs[0].last, 231u);
  EXPECT_REL(segs[0].charge_ah, -0.63780098, 1e-5);
  EXPECT_REL(segs[1].charge_ah, 4.52258518, 1e-5);   // CC+CV charge over steps 4 and 5
  EXPECT_REL(segs[2].charge_ah, -4.54401322, 1e-5);
  EXPECT_REL(static_cast<double>(i->t_ns[segs[1].first] - r.start_ns) / 1e9, 11797.22, 1e-6);

  EXPECT_EQ(testing::count_events(r, "step_change"), 23u);
  EXPECT_EQ(testing::count_events(r, "cycle_change"), 0u);  // Cyc# is 0 throughout
  // Amp-hr restarts per step: kept as per-step capacity; step 2 ends at 0.63781 Ah.
  const ChannelData* q = find_channel(r, "capacity");
  ASSERT_TRUE(q);
  EXPECT_REL(q->values[231], 0.63781 * 3600.0, 1e-6);
  EXPECT_TRUE(testing::has_assumption(r, "restart at 0 at every step"));
  EXPECT_TRUE(testing::has_assumption(r, "+|I| for C"));
}

TEST(MaccorText, DiagnosticExcerptMatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_file(opsync::test::fixture("cycler/maccor_diagnostic.052"), {});
  EXPECT_EQ(r.rows, 333u);  // includes the row whose DPt Time is only "10/22/2019"
  // First DPt Time 10/21/2019 23:59:59 minus Test (Sec) 769267.24.
  const int64_t first_dpt = civil_to_ns(CivilTime{2019, 10, 21, 23, 59, 59, 0});
  EXPECT_EQ(r.start_ns, first_dpt - 769267240000000LL);
  EXPECT_EQ(r.t_first_ns, first_dpt);
  EXPECT_EQ(r.t_last_ns - r.start_ns, 769270570000000LL);
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_REL(testing::min_value(*i), -4.8409247, 1e-6);
  EXPECT_REL(testing::max_value(*i), -4.8393225, 1e-6);
  const auto segs = current_segments(*i);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_REL(segs[0].charge_ah, -0.00447693154, 1e-5);
  EXPECT_EQ(testing::count_events(r, "step_change"), 0u);
}

TEST(MaccorText, RecMdVariantWithTwelveHourClockAndZone) {
  const std::string text =
      "Name:\tcell-15\r\n"
      "Started\t5/11/2021 3:40:24 PM\r\n"
      "\r\n"
      "Rec\tCycle C\tStep\tTestTime\tCap. [Ah]\tCurrent [A]\tVoltage [V]\tMd\tES\tDPT Time\r\n"
      "1\t0\t1\t0\t0\t0\t3.5\tR\t0\t5/11/2021 3:40:24 PM\r\n"
      "2\t0\t2\t60.5\t0.01\t2\t3.6\tD\t0\t5/11/2021 3:41:24 PM\r\n"
      "3\t1\t3\t120\t0.02\t-1\t3.7\tC\t0\t5/11/2021 3:42:24 PM\r\n"
      "4\t1\t4\t180\t0\t0.5\t3.7\tS\t0\t5/11/2021 3:43:24 PM\r\n";
  const std::string path = testing::write_temp("variant_c.txt", text);
  ImportOptions o;
  o.time_zone = "-07:00";
  const ImportResult r = import_file(path, o);
  EXPECT_EQ(r.format, "maccor-text");
  EXPECT_EQ(r.rows, 4u);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2021, 5, 11, 22, 40, 24, 0}));
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  ASSERT_EQ(i->values.size(), 4u);
  EXPECT_EQ(i->values[1], -2.0);  // D: -|Amps|
  EXPECT_EQ(i->values[2], 1.0);   // C: +|Amps|
  EXPECT_EQ(i->values[3], 0.0);   // unknown state letter: 0, and said so
  EXPECT_TRUE(testing::has_assumption(r, "state 'S'"));
  EXPECT_EQ(i->t_ns[1] - r.start_ns, 60500000000LL);
  EXPECT_EQ(testing::count_events(r, "step_change"), 3u);
  EXPECT_EQ(testing::count_events(r, "cycle_change"), 1u);
}

}  // namespace
}  // namespace opsync::import
