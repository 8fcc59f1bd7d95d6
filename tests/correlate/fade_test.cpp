// Voltage fade on a cell written here in closed form: every cycle a charge and a discharge whose
// V(q) = 3.8 + 0.4 (q - 0.5) + 2.4 (q - 0.5)^3 is flattest at half charge (one dQ/dV peak, at 3.8 V),
// the whole curve falling by a set amount per cycle (the voltage decay of a Li-rich cathode), the
// discharge 50 mV below the charge and 2 % short of it. Capacities, energies, mean voltages and
// the peaks' drift are all known exactly.
#include "correlate/fade.h"

#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

#include "correlate/errors.h"

namespace opsync::correlate {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;
constexpr double kFadeV = 0.005;      // per cycle
constexpr double kDischargeFraction = 0.98;

double v_charge(double q, int cycle) {
  const double x = q - 0.5;
  return 3.8 + 0.4 * x + 2.4 * x * x * x - kFadeV * cycle;
}
double v_discharge(double q, int cycle) { return v_charge(q, cycle) - 0.05; }
// Integral of v_charge over q from a to b.
double v_integral(double a, double b, int cycle) {
  auto f = [&](double q) {
    const double x = q - 0.5;
    return (3.8 - kFadeV * cycle) * q + 0.2 * x * x + 0.6 * x * x * x * x;
  };
  return f(b) - f(a);
}

// 1 mA; charge 3600 s (1 mAh, q 0 -> 1), rest 600 s, discharge 3528 s (q 1 -> 0.02), rest 600 s.
CyclerRecord cell(int cycles, double dt_s = 2) {
  CyclerRecord r;
  double t = 0;
  auto add = [&](double v, double i) {
    r.t_ns.push_back(std::llround(t * 1e9));
    r.voltage_v.push_back(v);
    r.current_a.push_back(i);
    t += dt_s;
  };
  for (int n = 0; n < cycles; ++n) {
    for (double s = 0; s <= 3600 + 1e-9; s += dt_s) add(v_charge(s / 3600, n), 1e-3);
    for (double s = 0; s < 600; s += dt_s) add(v_charge(1, n) - 0.02, 0);
    const double t_dis = 3600 * kDischargeFraction;
    for (double s = 0; s <= t_dis + 1e-9; s += dt_s) add(v_discharge(1 - s / 3600, n), -1e-3);
    for (double s = 0; s < 600; s += dt_s) add(v_discharge(1 - kDischargeFraction, n) + 0.02, 0);
  }
  return r;
}

TEST(Fade, CapacitiesEnergiesAndMeanVoltagesMatchTheClosedForm) {
  const FadeResult r = analyze_fade(cell(5));
  ASSERT_EQ(r.cycles.size(), 5u);
  EXPECT_EQ(r.first, Direction::charge);
  for (int n = 0; n < 5; ++n) {
    const CycleSummary& c = r.cycles[static_cast<size_t>(n)];
    ASSERT_TRUE(c.charge && c.discharge) << n;
    EXPECT_NEAR(c.charge->capacity_mah, 1.0, 1e-9) << n;
    EXPECT_NEAR(c.discharge->capacity_mah, kDischargeFraction, 1e-9) << n;
    EXPECT_NEAR(*c.coulombic_efficiency, kDischargeFraction, 1e-9) << n;
    // Energy (mWh) = 1 mAh x the mean of V over q; the trapezoid on 2 s rows is within 1e-6 of it.
    const double e_ch = v_integral(0, 1, n), e_dis = v_integral(1 - kDischargeFraction, 1, n) - 0.05 * kDischargeFraction;
    EXPECT_NEAR(c.charge->energy_mwh, e_ch, 1e-5) << n;
    EXPECT_NEAR(c.discharge->energy_mwh, e_dis, 1e-5) << n;
    EXPECT_NEAR(c.charge->mean_voltage_v, e_ch, 1e-5) << n;
    EXPECT_NEAR(c.discharge->mean_voltage_v, e_dis / kDischargeFraction, 1e-5) << n;
    EXPECT_NEAR(*c.energy_efficiency, e_dis / e_ch, 1e-5) << n;
  }
}

TEST(Fade, PeaksAreTrackedAndTheirDriftIsThePerCycleFade) {
  const FadeResult r = analyze_fade(cell(6));
  // One feature per direction, followed through all six cycles.
  ASSERT_EQ(r.tracks.size(), 2u);
  for (const PeakTrack& t : r.tracks) {
    ASSERT_EQ(t.points.size(), 6u) << to_string(t.direction);
    const double v0 = t.direction == Direction::charge ? v_charge(0.5, 0) : v_discharge(0.5, 0);
    for (const auto& p : t.points) EXPECT_NEAR(p.voltage_v, v0 - kFadeV * static_cast<double>(p.cycle), 1e-3);
    ASSERT_TRUE(t.drift_v_per_cycle.has_value());
    EXPECT_NEAR(*t.drift_v_per_cycle, -kFadeV, 2e-4) << to_string(t.direction);
  }
  EXPECT_EQ(r.curves.size(), 12u);
  EXPECT_EQ(r.curve_cycle.back(), 5u);
}

TEST(Fade, APeakThatMovesFurtherThanTheWindowStartsANewTrack) {
  FadeOptions opt;
  opt.track_window_v = 0.002;  // less than the 5 mV per cycle
  const FadeResult r = analyze_fade(cell(3), opt);
  EXPECT_EQ(r.tracks.size(), 6u);
  for (const PeakTrack& t : r.tracks) {
    EXPECT_EQ(t.points.size(), 1u);
    EXPECT_FALSE(t.drift_v_per_cycle.has_value());
  }
}

TEST(Fade, ARecordThatStartsWithADischargePairsItWithTheChargeAfter) {
  CyclerRecord r = cell(3);
  // Drop the first charge and its rest: the record starts on the first discharge.
  const std::size_t skip = 1801 + 300;
  for (auto* v : {&r.voltage_v, &r.current_a}) v->erase(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(skip));
  r.t_ns.erase(r.t_ns.begin(), r.t_ns.begin() + static_cast<std::ptrdiff_t>(skip));
  const FadeResult f = analyze_fade(r);
  EXPECT_EQ(f.first, Direction::discharge);
  ASSERT_EQ(f.cycles.size(), 3u);
  EXPECT_TRUE(f.cycles[0].charge && f.cycles[0].discharge);
  EXPECT_FALSE(f.cycles[2].charge.has_value());  // the last discharge has no charge after it
  EXPECT_FALSE(f.cycles[2].coulombic_efficiency.has_value());
}

TEST(Fade, BadInput) {
  CyclerRecord rest;
  for (int k = 0; k < 10; ++k) {
    rest.t_ns.push_back(k * kNsPerS);
    rest.voltage_v.push_back(3.7);
    rest.current_a.push_back(0);
  }
  EXPECT_THROW(analyze_fade(rest), InputError);
  FadeOptions opt;
  opt.track_window_v = 0;
  EXPECT_THROW(analyze_fade(cell(1), opt), InputError);
}

}  // namespace
}  // namespace opsync::correlate
