// Gas quantities against a synthetic session with a known sensitivity, known gas amounts and a
// known transport delay: the mass spectrometer's ion current is generated here by stepping a
// first-order mixing volume (exact for piecewise-constant input) fed through a capillary delay,
// on a drifting noisy baseline. A calibration gas at a known flow, then an electrochemical
// reference (2 electrons per molecule), then a 10 h charge whose last 5 h release O2 at 4
// electrons per molecule.
#include "correlate/gas_quant.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>

#include <gtest/gtest.h>

#include "correlate/errors.h"
#include "correlate/onset.h"

namespace opsync::correlate {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000'000'000;
constexpr int64_t kS = 1'000'000'000;
constexpr double kSensitivity = 0.1;     // A per mol/s, truth
constexpr double kDelayS = 30, kMixS = 60;
constexpr double kFlow = 1e-9;           // calibration gas, mol/s
constexpr double kRefA = 5e-4;           // reference current, z = 2
constexpr double kChargeA = 1e-3;        // the charge; O2 at z = 4 from 8 h
constexpr double kCalOn = 3600, kCalOff = 5400, kRefOn = 7200, kRefOff = 9000;
constexpr double kChargeOn = 10800, kRelease = 28800, kChargeOff = 46800, kEnd = 57600;

double current_at(double t) {
  if (t >= kRefOn && t < kRefOff) return kRefA;
  if (t >= kChargeOn && t < kChargeOff) return kChargeA;
  return 0;
}
// Gas made at the cell (mol/s) at time t, and the calibration gas let into the capillary.
double made_at(double t) {
  if (t >= kRefOn && t < kRefOff) return kRefA / (2 * kFaradayCPerMol);
  if (t >= kRelease && t < kChargeOff) return kChargeA / (4 * kFaradayCPerMol);
  if (t >= kCalOn && t < kCalOff) return kFlow;
  return 0;
}

struct Session {
  std::vector<int64_t> ms_t;
  std::vector<double> ion;
  CyclerRecord cell;
};

Session session(unsigned seed) {
  Session s;
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 2e-13);
  double y = 0;  // mixing volume, mol/s seen by the MS
  const double dt = 2, decay = std::exp(-dt / kMixS);
  for (double t = 0; t <= kEnd; t += dt) {
    s.ms_t.push_back(kT0 + static_cast<int64_t>(t) * kS);
    s.ion.push_back(2e-11 + 1e-17 * t + kSensitivity * y + noise(rng));
    const double x = made_at(t - kDelayS + dt / 2);  // piecewise constant over the step
    y = x + (y - x) * decay;
  }
  for (double t = 0; t <= kEnd; t += 10) {
    s.cell.t_ns.push_back(kT0 + static_cast<int64_t>(t) * kS);
    s.cell.voltage_v.push_back(3.8);
    s.cell.current_a.push_back(current_at(t));
  }
  return s;
}

Window window(double a_s, double b_s) { return {kT0 + static_cast<int64_t>(a_s) * kS, kT0 + static_cast<int64_t>(b_s) * kS}; }

TEST(GasQuant, BothCalibrationsRecoverTheSensitivity) {
  const Session s = session(3);
  const Window quiet = window(0, 3000);
  // The calibration gas is marked once the mixing volume has filled (5 tau after it arrived).
  const Sensitivity flow = sensitivity_from_flow(s.ms_t, s.ion, quiet, window(kCalOn + kDelayS + 300, kCalOff), kFlow, 0);
  const Sensitivity far = sensitivity_from_faraday(s.ms_t, s.ion, quiet, s.cell, window(kRefOn, kRefOff), 2, kDelayS, 600);
  std::printf("sensitivity (truth %.4f A per mol/s): calibration gas %.5f +- %.5f, Faraday %.5f +- %.5f\n",
              kSensitivity, flow.a_per_mol_s, flow.sigma, far.a_per_mol_s, far.sigma);
  EXPECT_NEAR(flow.a_per_mol_s / kSensitivity, 1.0, 0.01);
  EXPECT_NEAR(far.a_per_mol_s / kSensitivity, 1.0, 0.02);
  EXPECT_LT(std::abs(flow.a_per_mol_s - kSensitivity), 4 * flow.sigma + 1e-4);
  // Q/(zF) from the cycler rows (every 10 s): the trapezoid over the row where the current stops
  // counts half of that interval, 5 s of 1800 s.
  EXPECT_NEAR(far.amount_mol / (kRefA * (kRefOff - kRefOn) / (2 * kFaradayCPerMol)), 1.0, 0.004);
  EXPECT_EQ(far.method, "faraday");
}

TEST(GasQuant, MolesPerHalfCycleAndElectronsPerMolecule) {
  const Session s = session(5);
  const Window quiet = window(0, 3000);
  const Sensitivity far = sensitivity_from_faraday(s.ms_t, s.ion, quiet, s.cell, window(kRefOn, kRefOff), 2, kDelayS, 600);
  // The release onset as the onset detector finds it (its baseline window must end before the
  // calibrations: it sees them as gas otherwise, so search only after the reference).
  OnsetOptions opt;
  opt.quiet_begin_ns = quiet.begin_ns;
  opt.quiet_end_ns = quiet.end_ns;
  opt.transport_delay_s = kDelayS;
  const auto after_ref = static_cast<std::size_t>((kRefOff + 1200) / 2);
  std::vector<int64_t> t(s.ms_t.begin() + static_cast<std::ptrdiff_t>(after_ref), s.ms_t.end());
  std::vector<double> v(s.ion.begin() + static_cast<std::ptrdiff_t>(after_ref), s.ion.end());
  std::vector<int64_t> tq(s.ms_t.begin(), s.ms_t.begin() + 1500);
  std::vector<double> vq(s.ion.begin(), s.ion.begin() + 1500);
  tq.insert(tq.end(), t.begin(), t.end());
  vq.insert(vq.end(), v.begin(), v.end());
  const OnsetResult onset = detect_onset(tq, vq, opt);
  ASSERT_TRUE(onset.extrapolated_onset_t_ns.has_value()) << onset.note;
  const GasAmounts g = gas_amounts(s.ms_t, s.ion, onset.baseline, far, kDelayS, s.cell, onset.extrapolated_onset_t_ns);
  ASSERT_EQ(g.half_cycles.size(), 2u);  // the reference, the charge
  const double ref_mol = kRefA * (kRefOff - kRefOn) / (2 * kFaradayCPerMol);
  const double o2_mol = kChargeA * (kChargeOff - kRelease) / (4 * kFaradayCPerMol);
  // Within a half-cycle's span the mixing volume's tail after the current stops is cut off:
  // tau x the final rate, 60 s of 2.6e-9 mol/s = 1.6e-7 mol, 0.3 % of the O2.
  EXPECT_NEAR(g.half_cycles[0].amount_mol / ref_mol, 1.0, 0.05);
  EXPECT_NEAR(g.half_cycles[1].amount_mol / o2_mol, 1.0, 0.02);
  ASSERT_TRUE(g.electrons_per_molecule.has_value());
  std::printf("O2 %.4e mol (truth %.4e), electrons per O2 over the release window %.3f (truth 4)\n",
              g.half_cycles[1].amount_mol, o2_mol, *g.electrons_per_molecule);
  EXPECT_NEAR(*g.electrons_per_molecule, 4.0, 0.12);
  EXPECT_GT(g.half_cycles[1].amount_sigma_mol, 0);
}

TEST(GasQuant, BadInput) {
  const Session s = session(1);
  EXPECT_THROW(sensitivity_from_flow(s.ms_t, s.ion, window(0, 3000), window(10, 5), kFlow, 0), InputError);
  EXPECT_THROW(sensitivity_from_flow(s.ms_t, s.ion, window(0, 3000), window(kCalOn, kCalOff), 0, 0), InputError);
  // No gas above the baseline in the interval.
  EXPECT_THROW(sensitivity_from_flow(s.ms_t, s.ion, window(0, 3000), window(kCalOff + 900, kRefOn), kFlow, 0), InputError);
  EXPECT_THROW(sensitivity_from_faraday(s.ms_t, s.ion, window(0, 3000), s.cell, window(kCalOn, kCalOff), 2, kDelayS, 600),
               InputError);  // no current then
}

}  // namespace
}  // namespace opsync::correlate
