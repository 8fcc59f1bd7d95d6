// dV/dQ and the charge passed through a half-cycle, on records whose derivative and charge are
// known in closed form; a capacity counter that resets at a step change inside a charge (CC -> CV).
#include "correlate/dvdq.h"

#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

#include "correlate/dqdv.h"
#include "correlate/errors.h"

namespace opsync::correlate {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;

// V(Q) = 3.6 + 0.4 q + 0.1 tanh((q - 0.5)/0.05), q = Q/Q_total: a plateau-like step at half charge.
double v_of(double q) { return 3.6 + 0.4 * q + 0.1 * std::tanh((q - 0.5) / 0.05); }
double dv_dq_of(double q) { return 0.4 + 0.1 / 0.05 / std::pow(std::cosh((q - 0.5) / 0.05), 2); }

// A charge at 1 mA for 3600 s (1 mAh) sampled every second, then the same back as a discharge.
CyclerRecord charge_and_discharge(bool with_column) {
  CyclerRecord r;
  int64_t t = 0;
  for (int dir : {1, -1}) {
    for (int k = 0; k <= 3600; ++k, t += kNsPerS) {
      const double q = k / 3600.0;
      r.t_ns.push_back(t);
      r.voltage_v.push_back(v_of(dir > 0 ? q : 1 - q));
      r.current_a.push_back(dir * 1e-3);
      if (with_column) r.capacity_c.push_back(3.6 * q);  // a counter that resets per half-cycle
    }
  }
  return r;
}

TEST(Dvdq, MatchesTheClosedFormIncludingTheEnds) {
  DvdqOptions opt;
  opt.fwhm_fraction = 0.002;
  const auto curves = dvdq(charge_and_discharge(false), opt);
  ASSERT_EQ(curves.size(), 2u);
  for (const DvdqCurve& c : curves) {
    const double sign = c.direction == Direction::charge ? 1.0 : -1.0;
    ASSERT_EQ(c.charge_mah.size(), opt.grid_points);
    EXPECT_NEAR(c.charge_mah.back(), 1.0, 1e-3);
    double worst = 0;
    for (std::size_t k = 0; k < c.charge_mah.size(); ++k) {
      const double q = c.direction == Direction::charge ? c.charge_mah[k] : 1 - c.charge_mah[k];
      worst = std::max(worst, std::abs(c.dvdq_v_per_mah[k] / (sign * dv_dq_of(q)) - 1));
    }
    // 0.2 % of the charge as FWHM rounds the 2.4 V/mAh top by under 1 %; the ends keep their value.
    EXPECT_LT(worst, 0.01) << to_string(c.direction);
    EXPECT_NEAR(c.dvdq_v_per_mah.front(), sign * dv_dq_of(c.direction == Direction::charge ? 0 : 1), 0.005);
  }
}

TEST(Dvdq, ColumnAndIntegratedAgree) {
  const auto a = dvdq(charge_and_discharge(true));
  const auto b = dvdq(charge_and_discharge(false));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t h = 0; h < a.size(); ++h) {
    for (std::size_t k = 0; k < a[h].dvdq_v_per_mah.size(); k += 97) {
      EXPECT_NEAR(a[h].dvdq_v_per_mah[k], b[h].dvdq_v_per_mah[k], 1e-3 * std::abs(b[h].dvdq_v_per_mah[k])) << k;
    }
  }
}

// CC at 1 mA to 4.2 V over 3000 s, then CV at 4.2 V with the current decaying (tau 300 s) for 1200 s;
// the counter starts again from zero at the CV step, as Maccor's step counters do.
CyclerRecord cc_cv_with_reset(double column_gain) {
  CyclerRecord r;
  double q_c = 0, q_step = 0;
  for (int k = 0; k <= 4200; ++k) {
    const bool cv = k > 3000;
    const double i_a = cv ? 1e-3 * std::exp(-(k - 3000) / 300.0) : 1e-3;
    if (k > 0) {
      const double i_prev = r.current_a.back();
      const double dq = 0.5 * (i_a + i_prev);
      q_c += dq;
      q_step = (k == 3001) ? dq : q_step + dq;  // reset at the step: only what passed since
    }
    r.t_ns.push_back(int64_t{k} * kNsPerS);
    r.voltage_v.push_back(cv ? 4.2 : v_of(k / 3000.0) + 0.1);
    r.current_a.push_back(i_a);
    r.capacity_c.push_back(column_gain * (cv ? q_step : q_c));
  }
  return r;
}

TEST(ChargePassed, BridgesACounterResetInsideAHalfCycle) {
  const CyclerRecord rec = cc_cv_with_reset(1.0);
  std::size_t resets = 0;
  const std::vector<double> q = charge_passed_c(rec, 0, rec.t_ns.size(), &resets);
  CyclerRecord no_column = rec;
  no_column.capacity_c.clear();
  const std::vector<double> trapezoid = charge_passed_c(no_column, 0, rec.t_ns.size());
  EXPECT_EQ(resets, 1u);
  for (std::size_t i = 0; i < q.size(); i += 50) EXPECT_NEAR(q[i], trapezoid[i], 1e-9) << i;
  // Monotone, and the total is all the charge: 3 C of CC plus 0.3 C (1 - e^-4) of CV.
  for (std::size_t i = 1; i < q.size(); ++i) ASSERT_GE(q[i], q[i - 1]) << i;
  EXPECT_NEAR(q.back(), 3.0 + 0.3 * (1 - std::exp(-4.0)), 2e-3);
}

TEST(ChargePassed, FollowsTheColumnWhereItRunsOn) {
  // A column 1 % above the trapezoid (the cycler integrates faster than it logs): the column wins.
  const CyclerRecord rec = cc_cv_with_reset(1.01);
  const std::vector<double> q = charge_passed_c(rec, 0, 3001);
  EXPECT_NEAR(q.back(), 1.01 * 3.0, 1e-9);
}

TEST(ChargePassed, DqdvInColumnModeMatchesIntegratedAcrossTheReset) {
  // Before the bridge the CV rows had the reset counter's small values: the curve's end went
  // negative and the charge under it was wrong.
  const CyclerRecord rec = cc_cv_with_reset(1.0);
  CyclerRecord no_column = rec;
  no_column.capacity_c.clear();
  const auto a = dqdv(rec), b = dqdv(no_column);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(a[0].dqdv.size(), b[0].dqdv.size());
  for (std::size_t k = 0; k < a[0].dqdv.size(); ++k) EXPECT_NEAR(a[0].dqdv[k], b[0].dqdv[k], 1e-6) << k;
  EXPECT_NE(a[0].method.capacity_source.find("1 counter reset"), std::string::npos) << a[0].method.capacity_source;
}

TEST(Dvdq, RejectsBadOptions) {
  DvdqOptions opt;
  opt.grid_points = 2;
  EXPECT_THROW(dvdq(charge_and_discharge(false), opt), InputError);
  opt.grid_points = 100;
  opt.fwhm_fraction = 1.5;
  EXPECT_THROW(dvdq(charge_and_discharge(false), opt), InputError);
}

}  // namespace
}  // namespace opsync::correlate
