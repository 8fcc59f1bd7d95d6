// dQ/dV against a synthetic Q(V) whose derivative is known in closed form: a linear background plus
// a Gaussian peak (Q = b (V - V0) + A Phi((V - Vp)/s)). Gaussian smoothing of FWHM w turns the peak
// into a Gaussian of sigma sqrt(s^2 + (w/2.3548)^2) with the same area, which gives the expected
// height and width.
#include "correlate/dqdv.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>

#include <gtest/gtest.h>

#include "correlate/errors.h"
#include "correlate/smoothing.h"

namespace oc = opsync::correlate;

namespace {
constexpr double kV0 = 3.6, kVp = 3.85, kSigmaPeak = 0.015;  // peak at 3.85 V, 15 mV sigma
constexpr double kAmpC = 36.0;   // 10 mAh in the peak
constexpr double kBgCPerV = 3.6;  // background 1 mAh/V
constexpr double kCurrentA = 0.01;

double q_of_v(double v) {
  return kBgCPerV * (v - kV0) + kAmpC * 0.5 * std::erfc(-(v - kVp) / (kSigmaPeak * std::numbers::sqrt2));
}

// Charge at constant current from 3.6 to 4.1 V: voltage sampled every 0.2 mV, time from Q/I.
oc::CyclerRecord charge_record(bool with_column) {
  oc::CyclerRecord r;
  for (double v = kV0; v <= 4.1; v += 2e-4) {
    const double q = q_of_v(v);
    r.t_ns.push_back(std::llround(q / kCurrentA * 1e9));
    r.voltage_v.push_back(v);
    r.current_a.push_back(kCurrentA);
    if (with_column) r.capacity_c.push_back(q);
  }
  return r;
}

struct Expected {
  double height_mah_per_v, fwhm_v;
};
Expected expected_peak(double smoothing_fwhm_v) {
  const double s = std::hypot(kSigmaPeak, smoothing_fwhm_v / oc::kFwhmPerSigma);
  const double bg = kBgCPerV / oc::kCoulombPerMah;
  const double g0 = kAmpC / oc::kCoulombPerMah / (s * std::sqrt(2 * std::numbers::pi));
  // Half height of bg + g0 exp(-x^2/2s^2) relative to zero: g0 e = (bg + g0)/2 - bg.
  const double e = 0.5 * (g0 - bg) / g0;
  return {bg + g0, 2 * s * std::sqrt(-2 * std::log(e))};
}

void check_peak(const oc::DqdvCurve& c, double fwhm_v) {
  ASSERT_EQ(c.peaks.size(), 1U);
  const auto want = expected_peak(fwhm_v);
  EXPECT_NEAR(c.peaks[0].voltage_v, kVp, 2e-3);
  EXPECT_NEAR(c.peaks[0].height / want.height_mah_per_v, 1.0, 0.03);
  ASSERT_TRUE(c.peaks[0].fwhm_v.has_value());
  EXPECT_NEAR(*c.peaks[0].fwhm_v / want.fwhm_v, 1.0, 0.03);
}
}  // namespace

TEST(Dqdv, GaussianPeakFromCapacityColumn) {
  const auto curves = oc::dqdv(charge_record(true));
  ASSERT_EQ(curves.size(), 1U);
  EXPECT_EQ(curves[0].direction, oc::Direction::charge);
  EXPECT_EQ(curves[0].method.capacity_source, "column");
  EXPECT_EQ(curves[0].method.units, "mAh/V");
  EXPECT_DOUBLE_EQ(curves[0].method.fwhm_v, 0.010);
  EXPECT_DOUBLE_EQ(curves[0].method.dv_v, 0.001);
  check_peak(curves[0], 0.010);
}

TEST(Dqdv, GaussianPeakByIntegratingCurrentAndPerGram) {
  oc::DqdvOptions opt;
  opt.active_mass_g = 0.5;
  opt.fwhm_v = 0.020;
  const auto curves = oc::dqdv(charge_record(false), opt);
  ASSERT_EQ(curves.size(), 1U);
  EXPECT_EQ(curves[0].method.units, "mAh/g/V");
  ASSERT_EQ(curves[0].peaks.size(), 1U);
  const auto want = expected_peak(0.020);
  EXPECT_NEAR(curves[0].peaks[0].voltage_v, kVp, 2e-3);
  EXPECT_NEAR(curves[0].peaks[0].height / (want.height_mah_per_v / 0.5), 1.0, 0.03);
}

TEST(Dqdv, NoisyDischargeHasNegativePeakAtTruth) {
  // Discharge through the same Q(V): V falls, charge passed grows; 50 uV voltage noise would
  // fragment the curve, so noise is put on the capacity column instead (0.1 % of a mAh).
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0.0, 3.6e-3);
  oc::CyclerRecord r;
  const double qtop = q_of_v(4.1);
  int64_t k = 0;
  for (double v = 4.1; v >= kV0; v -= 2e-4, ++k) {
    r.t_ns.push_back(k * 1'000'000'000LL);
    r.voltage_v.push_back(v);
    r.current_a.push_back(-kCurrentA);
    r.capacity_c.push_back(qtop - q_of_v(v) + noise(rng));
  }
  const auto curves = oc::dqdv(r);
  ASSERT_EQ(curves.size(), 1U);
  EXPECT_EQ(curves[0].direction, oc::Direction::discharge);
  ASSERT_GE(curves[0].peaks.size(), 1U);
  const auto& p = curves[0].peaks[0];
  EXPECT_NEAR(p.voltage_v, kVp, 2e-3);
  EXPECT_LT(p.height, 0.0);
  EXPECT_NEAR(-p.height / expected_peak(0.010).height_mah_per_v, 1.0, 0.05);
}

TEST(Dqdv, VoltageThatTurnsBackIsNotSorted) {
  // Charge 3.6 -> 4.0 V, the voltage relaxes to 3.95 V while charge still flows, then 3.95 -> 4.1 V.
  // Sorting would fold two branches of Q(V) together; monotone pieces keep them apart.
  oc::CyclerRecord r;
  int64_t k = 0;
  double qoff = 0;
  auto add = [&](double v, double q) {
    r.t_ns.push_back(k++ * 1'000'000'000LL);
    r.voltage_v.push_back(v);
    r.current_a.push_back(kCurrentA);
    r.capacity_c.push_back(q);
  };
  for (double v = kV0; v <= 4.0 + 1e-12; v += 2e-4) add(v, q_of_v(v));
  qoff = q_of_v(4.0) + 5.0;  // 5 C passed during the turn-back
  for (double v = 3.95; v <= 4.1 + 1e-12; v += 2e-4) add(v, qoff + q_of_v(v) - q_of_v(3.95));

  const auto longest = oc::dqdv(r);
  ASSERT_EQ(longest.size(), 1U);
  EXPECT_EQ(longest[0].pieces_found, 2U);
  EXPECT_EQ(longest[0].piece, 0U);
  EXPECT_GE(longest[0].voltage_v.front(), kV0 - 1e-9);
  EXPECT_LE(longest[0].voltage_v.back(), 4.0 + 1e-9);
  for (std::size_t i = 1; i < longest[0].voltage_v.size(); ++i) {
    ASSERT_GT(longest[0].voltage_v[i], longest[0].voltage_v[i - 1]);
  }
  check_peak(longest[0], 0.010);

  oc::DqdvOptions each;
  each.pieces = oc::PieceChoice::each;
  const auto all = oc::dqdv(r, each);
  ASSERT_EQ(all.size(), 2U);
  EXPECT_NEAR(all[1].voltage_v.front(), 3.95, 1e-9);
  EXPECT_NEAR(all[1].voltage_v.back(), 4.1, 1e-9);
  // Away from its ends (where zero padding lowers the smoothed curve), the second piece shows the
  // background only: 1 mAh/V plus the peak's far tail. Folding the 5 C jump in would give a spike.
  const std::size_t mid = all[1].voltage_v.size() / 2;
  const double v = all[1].voltage_v[mid];
  const double truth = kBgCPerV / 3.6 +
                       kAmpC / 3.6 * std::exp(-0.5 * std::pow((v - kVp) / kSigmaPeak, 2)) /
                           (kSigmaPeak * std::sqrt(2 * std::numbers::pi));
  EXPECT_NEAR(all[1].dqdv[mid], truth, 0.02 * truth);
}

TEST(Dqdv, MonotonePiecesOfATurningVoltage) {
  const std::vector<double> v{3.0, 3.1, 3.2, 3.15, 3.3, 3.3, 3.4};
  const auto p = oc::monotone_pieces(v, oc::Direction::charge);
  ASSERT_EQ(p.size(), 2U);
  EXPECT_EQ(p[0].end, 3U);
  EXPECT_EQ(p[1].begin, 3U);
  EXPECT_EQ(p[1].end, 7U);
  EXPECT_EQ(oc::monotone_pieces(v, oc::Direction::discharge).size(), 5U);
}

TEST(Smoothing, FftEqualsDirectConvolution) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> x(37), k(9);
  for (double& a : x) a = u(rng);
  for (double& a : k) a = u(rng);
  const auto got = oc::convolve_linear_fft(x, k);
  ASSERT_EQ(got.size(), x.size() + k.size() - 1);
  for (std::size_t n = 0; n < got.size(); ++n) {
    double want = 0, mag = 0;
    for (std::size_t j = 0; j < k.size(); ++j) {
      if (n >= j && n - j < x.size()) {
        want += x[n - j] * k[j];
        mag += std::abs(x[n - j] * k[j]);
      }
    }
    EXPECT_NEAR(got[n], want, 1e-9 * mag) << "at " << n;
  }
}

TEST(Smoothing, GaussianKernelIsNormalisedAndNotCircular) {
  const auto k = oc::gaussian_kernel(3.0);
  double sum = 0;
  for (double a : k) sum += a;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_EQ(k.size() % 2, 1U);
  // A spike at the last sample must not wrap to the start (circular convolution would).
  std::vector<double> x(50, 0.0);
  x.back() = 1.0;
  const auto y = oc::smooth_gaussian(x, 3.0);
  EXPECT_NEAR(y.front(), 0.0, 1e-12);
  EXPECT_NEAR(y.back(), k[k.size() / 2], 1e-12);
}

TEST(Dqdv, BadOptionsAndShortPiecesAreErrors) {
  oc::DqdvOptions opt;
  opt.dv_v = 0;
  EXPECT_THROW(oc::dqdv(charge_record(true), opt), oc::InputError);
  const std::vector<double> v{3.7, 3.7005}, q{0, 1};
  EXPECT_THROW(oc::dqdv_piece(v, q, oc::Direction::charge, {}), oc::InputError);
}

// ---- Peaks by prominence: the case where a height threshold fails. ----
// One C/10 charge of a cell with two plateaus (logistic steps in Q(V), 1 Ah each, at 3.70 and
// 4.45 V) and sloping regions between them (a background a fifth of the plateaus' dQ/dV), logged
// 10^6 times with 0.2 mV voltage noise. V(t) comes from inverting the model's Q(V) by bisection;
// the analysis sees only the noisy voltage and the current. The true features are the two steps,
// whose dQ/dV peaks sit at their centres and hold their charge.
namespace {
constexpr double kStepV[2] = {3.70, 4.45};
constexpr double kStepWidthV = 0.010;  // logistic scale: peak dQ/dV = Q / (4 w)
constexpr double kStepC = 3600.0;      // 1 Ah each
constexpr double kSlopeCPerV = 0.2 * kStepC / (4 * kStepWidthV);
constexpr double kVLow = 3.3, kVHigh = 4.7;

double q_two_plateaus(double v) {
  double q = kSlopeCPerV * (v - kVLow);
  for (double c : kStepV) q += kStepC / (1 + std::exp(-(v - c) / kStepWidthV));
  return q;
}

oc::CyclerRecord two_plateau_charge(std::size_t rows, double noise_v, uint32_t seed) {
  const double q0 = q_two_plateaus(kVLow), q1 = q_two_plateaus(kVHigh);
  const double duration_s = 36'000;  // C/10
  const double current_a = (q1 - q0) / duration_s;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_v);
  oc::CyclerRecord r;
  r.t_ns.reserve(rows);
  r.voltage_v.reserve(rows);
  r.current_a.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const double t_s = duration_s * static_cast<double>(i) / static_cast<double>(rows - 1);
    const double q = q0 + current_a * t_s;
    double lo = kVLow, hi = kVHigh;  // Q(V) increases: bisect for V
    for (int k = 0; k < 60; ++k) {
      const double mid = 0.5 * (lo + hi);
      (q_two_plateaus(mid) < q ? lo : hi) = mid;
    }
    r.t_ns.push_back(std::llround(t_s * 1e9));
    r.voltage_v.push_back(0.5 * (lo + hi) + noise(rng));
    r.current_a.push_back(current_a);
  }
  return r;
}
}  // namespace

TEST(DqdvPeaks, ProminenceFindsTheTwoPlateausAndNotTheRipples) {
  const oc::CyclerRecord rec = two_plateau_charge(1'000'000, 0.2e-3, 7);
  const auto curves = oc::dqdv(rec);  // defaults
  ASSERT_EQ(curves.size(), 1U);
  const auto& peaks = curves[0].peaks;
  ASSERT_EQ(peaks.size(), 2U) << "ripples counted as peaks";
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_NEAR(peaks[k].voltage_v, kStepV[k], 3e-3) << k;
    // The charge in the feature is the step's (above the sloping background).
    EXPECT_NEAR(peaks[k].area / (kStepC / oc::kCoulombPerMah), 1.0, 0.10) << k;
    EXPECT_GT(peaks[k].prominence, 0.5 * std::abs(peaks[k].height)) << k;
    EXPECT_GT(peaks[k].width_v, 2 * kStepWidthV) << k;
    EXPECT_LT(peaks[k].left_base_v, peaks[k].voltage_v);
    EXPECT_GT(peaks[k].right_base_v, peaks[k].voltage_v);
  }
  // The old rule (a peak is any local maximum above 5 % of the largest value) counts the ripples
  // on the sloping stretches too: that is what this test guards against.
  oc::DqdvOptions height_only;
  height_only.peaks.min_prominence_fraction = 0;
  height_only.peaks.min_height_fraction = 0.05;
  const std::size_t by_height = oc::dqdv(rec, height_only)[0].peaks.size();
  EXPECT_GT(by_height, 4U);
  std::printf("two plateaus, 10^6 rows, 0.2 mV noise: %zu peaks by prominence (%.4f V, area %.3f of the step; "
              "%.4f V, area %.3f), %zu by the 5 %% height rule\n",
              peaks.size(), peaks[0].voltage_v, peaks[0].area / (kStepC / oc::kCoulombPerMah), peaks[1].voltage_v,
              peaks[1].area / (kStepC / oc::kCoulombPerMah), by_height);
}

TEST(DqdvPeaks, ProminenceAndWidthFollowScipysDefinitions) {
  // A hand-checkable curve on a 1 mV grid: two maxima, 5 at index 3 and 3 at index 7, minima 1 and 2.
  const std::vector<double> y{0, 1, 3, 5, 3, 2, 2.5, 3, 1, 0, 0};
  std::vector<double> v(y.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 1e-3 * static_cast<double>(i);
  oc::PeakOptions all;
  all.min_prominence_fraction = 0;
  const auto p = oc::find_peaks(v, y, all);
  ASSERT_EQ(p.size(), 2U);
  // Peak 5: walk left to the edge (min 0), right until above 5 (never; min 0): prominence 5.
  EXPECT_DOUBLE_EQ(p[0].prominence, 5.0);
  // Peak 3: left walk stops at the 5 (min 2 at index 5), right runs to the end (min 0): 3 - 2.
  EXPECT_DOUBLE_EQ(p[1].prominence, 1.0);
  EXPECT_DOUBLE_EQ(p[1].left_base_v, 5e-3);
  // Width of peak 5 at 2.5: left crossing between 1 and 3 (index 1.75), right between 3 and 2
  // at index 4.5 -> 2.75 samples.
  EXPECT_NEAR(p[0].width_v, 2.75e-3, 1e-12);
  oc::PeakOptions prominent;
  prominent.min_prominence_fraction = 0.3;  // 1.5 of 5: only the first
  EXPECT_EQ(oc::find_peaks(v, y, prominent).size(), 1U);
  oc::PeakOptions wide;
  wide.min_prominence_fraction = 0;
  wide.min_width_v = 3e-3;
  EXPECT_EQ(oc::find_peaks(v, y, wide).size(), 0U);
}

TEST(DqdvPeaks, AConstantVoltageEndOfChargeDoesNotHideThePeak) {
  // The Gaussian-peak charge of the tests above, then held at its top voltage while a further
  // 500 mAh pass (a CV hold): dQ/dV at the curve's edge rises far above the peak.
  oc::CyclerRecord r = charge_record(false);
  const double v_top = 4.1005;  // past the 4.100 V grid point, so the CV charge lands on the grid
  int64_t t = r.t_ns.back();
  for (int i = 0; i < 2000; ++i) {
    t += 90'000'000'000LL;  // 90 s per row at 10 mA: 500 mAh in all, as a long CV hold
    r.t_ns.push_back(t);
    r.voltage_v.push_back(v_top);
    r.current_a.push_back(kCurrentA);
  }
  const auto curves = oc::dqdv(r);
  ASSERT_EQ(curves.size(), 1U);
  const auto& c = curves[0];
  const double edge = *std::max_element(c.dqdv.begin(), c.dqdv.end());
  // Over 20 times the peak: 5 % of the edge would be above the peak itself.
  ASSERT_GT(edge, 20 * expected_peak(10e-3).height_mah_per_v) << "no CV edge to test";
  ASSERT_EQ(c.peaks.size(), 1U);
  EXPECT_NEAR(c.peaks[0].voltage_v, kVp, 2e-3);
}
