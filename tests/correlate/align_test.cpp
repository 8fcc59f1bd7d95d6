// Strain turnover and strain-vs-gas lag against synthetic scans with known truth: strain rising
// quadratically to a cusp at t_peak and relaxing exponentially after it (the shape of a Li-rich
// cathode's first charge), scans every 300 s, cell voltage ramping at 0.05 mV/s so 15 mV of
// voltage is 300 s (one scan period) of time.
#include "correlate/align.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "correlate/errors.h"

namespace oc = opsync::correlate;

namespace {
constexpr int64_t kT0Ns = 1'700'000'000'000'000'000;
constexpr int64_t kNsPerS = 1'000'000'000;
constexpr double kPeakS = 20'130;  // truth: not on a scan time
constexpr double kV0 = 3.8, kRampVPerS = 5e-5;
constexpr double kScanPeriodS = 300;

double strain_clean(double t_s) {
  if (t_s <= kPeakS) {
    const double u = t_s / kPeakS;
    return 1.2e-3 * u * u;
  }
  return 1.2e-3 * std::exp(-(t_s - kPeakS) / 1100.0);
}

struct Series {
  std::vector<int64_t> t_ns;
  std::vector<double> v;
};

Series scans(double noise, unsigned seed, double period_s = kScanPeriodS) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, noise);
  Series s;
  for (double t = 150; t < 30'000; t += period_s) {
    s.t_ns.push_back(kT0Ns + static_cast<int64_t>(t * kNsPerS));
    s.v.push_back(strain_clean(t) + (noise > 0 ? n(rng) : 0.0));
  }
  return s;
}

Series voltage() {
  Series s;
  for (int t = 0; t <= 31'000; t += 10) {
    s.t_ns.push_back(kT0Ns + int64_t{t} * kNsPerS);
    s.v.push_back(kV0 + kRampVPerS * t);
  }
  return s;
}

const double kTrueTurnoverV = kV0 + kRampVPerS * kPeakS;
}  // namespace

TEST(StrainTurnover, NoiseFreeCuspFoundBetweenScans) {
  const Series sc = scans(0, 1), cy = voltage();
  const oc::Turnover t = oc::strain_turnover(sc.t_ns, sc.v, cy.t_ns, cy.v);
  EXPECT_NEAR(t.voltage_v, kTrueTurnoverV, 15e-3);
  // The highest scan is at t = 19950 s (9 mV below truth); the fit must do better than picking it.
  EXPECT_LT(std::abs(t.voltage_v - kTrueTurnoverV), 5e-3) << t.voltage_v;
  EXPECT_GT(t.slope_before_per_s, 0);
  EXPECT_LT(t.slope_after_per_s, 0);
  EXPECT_LE(t.t_lo_ns, t.t_ns);
  EXPECT_GE(t.t_hi_ns, t.t_ns);
  EXPECT_EQ(t.n_scans, 13u);
}

TEST(StrainTurnover, NoisyWithinFifteenMillivoltsAndIntervalCoversTruthMostly) {
  const Series cy = voltage();
  int covered = 0;
  const int runs = 40;
  double worst = 0;
  for (int seed = 1; seed <= runs; ++seed) {
    const Series sc = scans(2e-5, static_cast<unsigned>(seed));
    const oc::Turnover t = oc::strain_turnover(sc.t_ns, sc.v, cy.t_ns, cy.v);
    worst = std::max(worst, std::abs(t.voltage_v - kTrueTurnoverV));
    EXPECT_NEAR(t.voltage_v, kTrueTurnoverV, 15e-3) << "seed " << seed;
    EXPECT_GT(t.uncertainty_v, 0);
    EXPECT_LT(t.uncertainty_v, 15e-3);
    const int64_t truth_ns = kT0Ns + static_cast<int64_t>(kPeakS * kNsPerS);
    if (t.t_lo_ns <= truth_ns && truth_ns <= t.t_hi_ns) ++covered;
  }
  // A 68 % interval: well over a third of runs cover the truth (the model is not exactly a hinge).
  EXPECT_GE(covered, runs / 3) << "covered " << covered << " of " << runs << ", worst error " << worst;
}

TEST(StrainTurnover, CompressiveDipWithExtremumMin) {
  Series sc = scans(0, 1);
  for (double& v : sc.v) v = -v;
  const Series cy = voltage();
  oc::TurnoverOptions opt;
  opt.extremum = oc::Extremum::min;
  EXPECT_NEAR(oc::strain_turnover(sc.t_ns, sc.v, cy.t_ns, cy.v, opt).voltage_v, kTrueTurnoverV, 5e-3);
  // With the default (max) the extreme is the first scan: a clear error, not a number.
  try {
    (void)oc::strain_turnover(sc.t_ns, sc.v, cy.t_ns, cy.v);
    FAIL() << "expected InputError";
  } catch (const oc::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("does not turn over"), std::string::npos) << e.what();
  }
}

TEST(StrainTurnover, BadInputIsAClearError) {
  const Series cy = voltage();
  Series few = scans(0, 1);
  few.t_ns.resize(4);
  few.v.resize(4);
  EXPECT_THROW((void)oc::strain_turnover(few.t_ns, few.v, cy.t_ns, cy.v), oc::InputError);
  Series nan = scans(0, 1);
  nan.v[10] = std::nan("");
  EXPECT_THROW((void)oc::strain_turnover(nan.t_ns, nan.v, cy.t_ns, cy.v), oc::InputError);
  // Scans outside the cycler record (a wrong clock offset): said so.
  Series late = scans(0, 1);
  for (int64_t& t : late.t_ns) t += 40'000 * kNsPerS;
  EXPECT_THROW((void)oc::strain_turnover(late.t_ns, late.v, cy.t_ns, cy.v), oc::InputError);
}

TEST(CrossCorrelate, MatchesDirectSum) {
  const std::vector<double> x{1, -2, 3, 0.5}, y{0.25, 4, -1, 2, 7, -3};
  const std::vector<double> c = oc::cross_correlate_fft(x, y);
  ASSERT_EQ(c.size(), x.size() + y.size() - 1);
  for (int k = -static_cast<int>(x.size()) + 1; k < static_cast<int>(y.size()); ++k) {
    double direct = 0;
    for (int i = 0; i < static_cast<int>(x.size()); ++i)
      if (i + k >= 0 && i + k < static_cast<int>(y.size())) direct += x[static_cast<size_t>(i)] * y[static_cast<size_t>(i + k)];
    EXPECT_NEAR(c[static_cast<size_t>(k + static_cast<int>(x.size()) - 1)], direct, 1e-12) << "k " << k;
  }
}

namespace {
// A gas signal proportional to the strain relaxation rate, delayed by lag_s at the cell and by
// the capillary on top, sampled every 2 s with noise.
Series gas(double lag_s, double capillary_s, double noise, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, noise);
  Series g;
  for (double t = 0; t < 30'000; t += 2) {
    const double src = t - lag_s - capillary_s;
    const double rate = -(strain_clean(src + 1) - strain_clean(src - 1)) / 2;  // -d(strain)/dt
    g.t_ns.push_back(kT0Ns + static_cast<int64_t>(t * kNsPerS));
    g.v.push_back(1e-11 + 1e-5 * std::max(rate, 0.0) + (noise > 0 ? n(rng) : 0.0));
  }
  return g;
}
}  // namespace

TEST(StrainGasLag, RecoversKnownLagAfterTransportCorrection) {
  for (double lag : {0.0, 450.0, 1200.0}) {
    const Series sc = scans(0, 1, 60), g = gas(lag, 30, 2e-13, 7);
    oc::LagOptions opt;
    opt.transport_delay_s = 30;
    const oc::LagResult r = oc::strain_gas_lag(sc.t_ns, sc.v, g.t_ns, g.v, opt);
    EXPECT_NEAR(r.lag_s, lag, 2 * r.grid_dt_s) << "lag " << lag;
    EXPECT_GT(r.correlation, 0.5);
    EXPECT_DOUBLE_EQ(r.grid_dt_s, 15.0);
  }
}

TEST(StrainGasLag, NoOverlapIsAClearError) {
  const Series sc = scans(0, 1);
  Series g = gas(0, 0, 0, 1);
  for (int64_t& t : g.t_ns) t += 100'000 * kNsPerS;
  EXPECT_THROW((void)oc::strain_gas_lag(sc.t_ns, sc.v, g.t_ns, g.v), oc::InputError);
}
