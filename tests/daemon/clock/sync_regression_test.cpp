// The sync regression against known truth: offset and drift recovered through jittery,
// asymmetric delays; long round trips gated; a clock step detected and the fit restarted.
#include "clock/sync_regression.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

namespace opsync::clock {
namespace {

// A source clock: ticks at tick_hz with drift and an offset against reference time.
struct SourceClock {
  double tick_hz = 168e6;
  double drift_ppm = 0;
  int64_t offset_ticks = 0;
  int64_t ticks_at(int64_t t_ref_ns) const {
    return offset_ticks + std::llround(static_cast<long double>(t_ref_ns) * (1.0L + drift_ppm * 1e-6L) *
                                       static_cast<long double>(tick_hz) / 1e9L);
  }
};

// One exchange with one-way delays out/back (ns) and device processing time.
SyncExchange exchange(const SourceClock& src, int64_t t1, int64_t out_ns, int64_t back_ns, int64_t proc_ns) {
  SyncExchange x;
  x.t1_ref_ns = t1;
  x.t2_src = src.ticks_at(t1 + out_ns);
  x.t3_src = src.ticks_at(t1 + out_ns + proc_ns);
  x.t4_ref_ns = t1 + out_ns + proc_ns + back_ns;
  return x;
}

TEST(SyncRegression, RecoversOffsetAndDriftThroughJitter) {
  for (double drift : {-100.0, 0.0, 100.0}) {
    SCOPED_TRACE(drift);
    SourceClock src{168e6, drift, 123'456'789};
    SyncOptions opt;
    opt.nominal_ns_per_unit = 1e9 / 168e6;
    SyncRegression reg(opt);
    std::mt19937 rng(7);
    std::uniform_int_distribution<int64_t> delay(0, 1'000'000);  // 0..1 ms each way
    const int64_t t_start = 1'700'000'000'000'000'000;
    for (int i = 0; i < 300; ++i) reg.add(exchange(src, t_start + i * 100'000'000LL, delay(rng), delay(rng), 20'000));
    ASSERT_TRUE(reg.valid());
    EXPECT_NEAR(reg.drift_ppm(), drift, 5.0);
    // Map source times across the last window against truth.
    double worst = 0;
    for (int k = 0; k < 50; ++k) {
      const int64_t t_true = t_start + 29'000'000'000LL + k * 20'000'000LL;
      const int64_t mapped = reg.to_ref_ns(src.ticks_at(t_true));
      worst = std::max(worst, std::fabs(static_cast<double>(mapped - t_true)));
    }
    EXPECT_LT(worst, 100'000.0) << "max mapping error " << worst << " ns";
    const auto m = reg.model(0);
    EXPECT_EQ(m.method, "regression");
    EXPECT_GT(m.n_points, 10);
    // The stored model maps the same way as the live fit.
    const int64_t t_src = src.ticks_at(t_start + 29'500'000'000LL);
    EXPECT_NEAR(static_cast<double>(m.offset_ns) + m.rate * static_cast<double>(t_src),
                static_cast<double>(reg.to_ref_ns(t_src)), 2000.0);
  }
}

TEST(SyncRegression, ExactWhenDelaysAreSymmetric) {
  SourceClock src{1e6, 30.0, 5'000};  // a clock in microseconds, 30 ppm fast
  SyncOptions opt;
  opt.nominal_ns_per_unit = 1e3;
  SyncRegression reg(opt);
  for (int i = 0; i < 100; ++i) reg.add(exchange(src, 1'000'000'000LL * 1000 + i * 50'000'000LL, 300'000, 300'000, 0));
  EXPECT_NEAR(reg.drift_ppm(), 30.0, 0.5);
  const int64_t t = 1'000'000'000LL * 1000 + 2'000'000'000LL;
  EXPECT_NEAR(static_cast<double>(reg.to_ref_ns(src.ticks_at(t))), static_cast<double>(t), 2'000.0);
}

TEST(SyncRegression, LongRoundTripsAreGated) {
  SourceClock src{1e9, 0, 0};
  SyncRegression reg;
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(reg.add(exchange(src, i * 100'000'000LL, 100'000, 100'000, 0)));
  // 30 ms round trip: beyond max_rtt (10 ms); 2 ms: beyond min + 3 sigma of the window.
  EXPECT_FALSE(reg.add(exchange(src, 2'100'000'000LL, 15'000'000, 15'000'000, 0)));
  EXPECT_FALSE(reg.add(exchange(src, 2'200'000'000LL, 1'000'000, 1'000'000, 0)));
  EXPECT_EQ(reg.stats().gated, 2u);
  // A gated exchange with a 14 ms asymmetry would have pulled the offset by 7 ms; it did not.
  EXPECT_NEAR(static_cast<double>(reg.to_ref_ns(src.ticks_at(2'300'000'000LL))), 2'300'000'000.0, 50'000.0);
}

TEST(SyncRegression, ClockStepRestartsTheFit) {
  SourceClock src{1e9, 0, 0};
  SyncRegression reg;
  int64_t t = 0;
  for (int i = 0; i < 50; ++i, t += 100'000'000) reg.add(exchange(src, t, 200'000, 200'000, 0));
  src.offset_ticks += 500'000'000;  // the source clock jumps by 0.5 s
  for (int i = 0; i < 20; ++i, t += 100'000'000) reg.add(exchange(src, t, 200'000, 200'000, 0));
  EXPECT_EQ(reg.stats().steps, 1u);
  EXPECT_NEAR(static_cast<double>(reg.to_ref_ns(src.ticks_at(t))), static_cast<double>(t), 10'000.0);
}

TEST(SyncRegression, SingleStrayReplyDoesNotBendTheModel) {
  SourceClock src{1e9, 0, 0};
  SyncRegression reg;
  int64_t t = 0;
  for (int i = 0; i < 30; ++i, t += 100'000'000) reg.add(exchange(src, t, 200'000, 200'000, 0));
  SyncExchange stray = exchange(src, t, 200'000, 200'000, 0);
  stray.t2_src += 300'000'000;  // a corrupted stamp
  stray.t3_src += 300'000'000;
  reg.add(stray);
  EXPECT_EQ(reg.stats().steps, 0u);
  EXPECT_NEAR(static_cast<double>(reg.to_ref_ns(src.ticks_at(t))), static_cast<double>(t), 10'000.0);
}

}  // namespace
}  // namespace opsync::clock
