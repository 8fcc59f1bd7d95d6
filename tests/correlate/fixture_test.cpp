// The correlator on real cycler files, against the figures independent readers computed
// (../shared/fixtures/ORACLES.md): dQ/dV peaks of the BioLogic C/24 five-cycle file (navani).
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "correlate/dqdv.h"
#include "correlate/fade.h"
#include "correlate/gitt.h"
#include "correlate/half_cycles.h"
#include "import/import_types.h"
#include "support/fixtures.h"

namespace oc = opsync::correlate;
namespace oi = opsync::import;

namespace {

oc::CyclerRecord load(const std::string& rel) {
  oi::ImportOptions o;
  o.kind = oi::Kind::Cycler;
  const oi::ImportResult r = oi::import_file(opsync::test::fixture(rel), o);
  auto channel = [&](const std::string& name) -> const oi::ChannelData& {
    for (const auto& c : r.channels)
      if (c.name == name) return c;
    throw std::runtime_error("no channel " + name);
  };
  oc::CyclerRecord rec;
  const auto& v = channel("voltage");
  const auto& i = channel("current");
  EXPECT_EQ(i.t_ns, v.t_ns);
  // A row stamped with its predecessor's time (Neware logs a step change twice: the old step's
  // last row and the new step's first) replaces it: the last reading wins, as in opsync's session reader.
  for (std::size_t k = 0; k < v.t_ns.size(); ++k) {
    if (!rec.t_ns.empty() && v.t_ns[k] <= rec.t_ns.back()) {
      rec.voltage_v.back() = v.values[k];
      rec.current_a.back() = i.values[k];
      continue;
    }
    rec.t_ns.push_back(v.t_ns[k]);
    rec.voltage_v.push_back(v.values[k]);
    rec.current_a.push_back(i.values[k]);
  }
  return rec;
}

// Voltage of the largest |dQ/dV| peak.
double main_peak_v(const oc::DqdvCurve& c) {
  const auto it = std::max_element(c.peaks.begin(), c.peaks.end(),
                                   [](const oc::DqdvPeak& a, const oc::DqdvPeak& b) { return std::abs(a.height) < std::abs(b.height); });
  return it == c.peaks.end() ? NAN : it->voltage_v;
}

}  // namespace

TEST(CorrelateFixtures, BiologicC24DqdvPeaksMatchNavani) {
  OPSYNC_REQUIRE_FIXTURES();
  const oc::CyclerRecord rec = load("cycler/biologic_gcpl_5cycles_C24.mpr");
  // ORACLES: 13 current segments, 6 charge and 7 discharge; the first is a discharge.
  const auto hcs = oc::split_half_cycles(rec);
  ASSERT_EQ(hcs.size(), 13u);
  EXPECT_EQ(std::count_if(hcs.begin(), hcs.end(), [](const oc::HalfCycle& h) { return h.direction == oc::Direction::charge; }), 6);
  EXPECT_EQ(hcs[0].direction, oc::Direction::discharge);

  const std::vector<oc::DqdvCurve> curves = oc::dqdv(rec);  // integrated capacity, 1 mV grid, 10 mV FWHM
  ASSERT_EQ(curves.size(), 13u);
  // The whole half-cycle is analysed despite noise dips: first discharge 2.505 -> 2.000 V, first
  // charge 2.006 -> 3.800 V (ORACLES V_first/V_last).
  EXPECT_NEAR(curves[0].voltage_v.back(), 2.505, 2e-3);
  EXPECT_NEAR(curves[0].voltage_v.front(), 2.000, 2e-3);
  EXPECT_NEAR(curves[1].voltage_v.front(), 2.007, 2e-3);
  EXPECT_NEAR(curves[1].voltage_v.back(), 3.800, 2e-3);
  // navani puts the first discharge's |dQ/dV| peak at 2.3164 V (defaults) and 2.3166 V (its test's
  // parameters), the first charge's at 3.6792 V (defaults, heavier smoothing) and 3.6634 V.
  EXPECT_NEAR(main_peak_v(curves[0]), 2.3165, 5e-3);
  const double charge_peak = main_peak_v(curves[1]);
  EXPECT_GT(charge_peak, 3.6634 - 5e-3);
  EXPECT_LT(charge_peak, 3.6792 + 5e-3);
}

TEST(CorrelateFixtures, LcoDqdvPeaksAreTheThreeFeaturesOfLiCoO2) {
  // LiCoO2 between 3.0 and 4.3 V shows three features (Reimers & Dahn, J. Electrochem. Soc. 139,
  // 2091, 1992): the two-phase region near 3.93 V on charge, and the order-disorder pair of the
  // monoclinic phase near x = 0.5 (~4.07 and ~4.18 V on charge, ~4.05 and ~4.15 V on discharge).
  // The pair is small (prominence ~3-5 % of the main peak): at 2 % all three show in every
  // half-cycle and nothing else does; at the default 5 % the smaller of the pair is dropped and
  // still nothing else shows.
  OPSYNC_REQUIRE_FIXTURES();
  const oc::CyclerRecord rec = load("cycler/arbin_5cycles_cathode.res");
  oc::DqdvOptions opt;
  opt.peaks.min_prominence_fraction = 0.02;
  const auto curves = oc::dqdv(rec, opt);
  ASSERT_EQ(curves.size(), 8u);
  for (const auto& c : curves) {
    const bool charge = c.direction == oc::Direction::charge;
    const double want[3] = {charge ? 3.933 : 3.893, charge ? 4.080 : 4.051, charge ? 4.193 : 4.161};
    ASSERT_EQ(c.peaks.size(), 3u) << "half-cycle " << c.half_cycle;
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(c.peaks[static_cast<size_t>(k)].voltage_v, want[k], 0.005) << c.half_cycle;
    EXPECT_GT(c.peaks[0].area, 3 * (c.peaks[1].area + c.peaks[2].area)) << c.half_cycle;  // the two-phase region dominates
  }
  for (const auto& c : oc::dqdv(rec)) {
    ASSERT_GE(c.peaks.size(), 1u);
    EXPECT_LE(c.peaks.size(), 2u) << c.half_cycle;
    EXPECT_NEAR(main_peak_v(c), c.direction == oc::Direction::charge ? 3.933 : 3.893, 0.005);
  }
}

TEST(CorrelateFixtures, FadeCapacitiesMatchTheIndependentReaders) {
  OPSYNC_REQUIRE_FIXTURES();
  // Arbin LCO, 5 cycles starting on charge. ORACLES: the first three current segments' charge
  // (trapezoid, galvani reader): 0.483497078, 0.472282526 and 0.473852816 mAh.
  const oc::FadeResult arbin = oc::analyze_fade(load("cycler/arbin_5cycles_cathode.res"));
  ASSERT_GE(arbin.cycles.size(), 4u);
  EXPECT_EQ(arbin.first, oc::Direction::charge);
  EXPECT_NEAR(arbin.cycles[0].charge->capacity_mah, 0.483497078, 1e-6);
  EXPECT_NEAR(arbin.cycles[0].discharge->capacity_mah, 0.472282526, 1e-6);
  EXPECT_NEAR(arbin.cycles[1].charge->capacity_mah, 0.473852816, 1e-6);
  // BioLogic C/24, starting on a partial discharge: navani's cycle_summary means over its cycles
  // (its "Discharge Capacity" is the positive-current state, i.e. this charge): 0.953553385 mAh
  // over the 6 charges, 0.777878856 mAh over the 7 discharges.
  const oc::FadeResult bio = oc::analyze_fade(load("cycler/biologic_gcpl_5cycles_C24.mpr"));
  EXPECT_EQ(bio.first, oc::Direction::discharge);
  double ch = 0, dis = 0;
  int n_ch = 0, n_dis = 0;
  for (const auto& c : bio.cycles) {
    if (c.charge) ch += c.charge->capacity_mah, ++n_ch;
    if (c.discharge) dis += c.discharge->capacity_mah, ++n_dis;
  }
  ASSERT_EQ(n_ch, 6);
  ASSERT_EQ(n_dis, 7);
  EXPECT_NEAR(ch / n_ch, 0.953553385, 1e-5);
  EXPECT_NEAR(dis / n_dis, 0.777878856, 1e-5);
  // Neware (NewareNDA reader), starting on discharge: the first three segments' trapezoids,
  // 1297.27398, 4760.69464 and 4717.54529 mAh. The times differ slightly between the readers
  // (NewareNDA sums step times; the importer reads the record's own time stamps): 5e-5 of the charge.
  const oc::FadeResult nw = oc::analyze_fade(load("cycler/neware_m50t_v17.ndax"));
  ASSERT_GE(nw.cycles.size(), 2u);
  EXPECT_EQ(nw.first, oc::Direction::discharge);
  EXPECT_NEAR(nw.cycles[0].discharge->capacity_mah / 1297.27398, 1.0, 5e-5);
  EXPECT_NEAR(nw.cycles[0].charge->capacity_mah / 4760.69464, 1.0, 5e-5);
  EXPECT_NEAR(nw.cycles[1].discharge->capacity_mah / 4717.54529, 1.0, 5e-5);
  // Every charge's main dQ/dV feature (3.666-3.671 V) is one track across the six cycles.
  bool main_tracked = false;
  for (const auto& t : bio.tracks) {
    if (t.direction == oc::Direction::charge && t.points.size() == 6 && std::abs(t.points[0].voltage_v - 3.6655) < 0.005) {
      main_tracked = true;
    }
  }
  EXPECT_TRUE(main_tracked);
}

TEST(CorrelateFixtures, ArbinGittPulsesMatchOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const oc::CyclerRecord rec = load("cycler/arbin_gitt_fullcell.res");
  oc::GittOptions opt;
  opt.radius_cm = 5e-4;  // any geometry: D is not in ORACLES, the pulse bookkeeping is
  const oc::GittResult r = oc::analyze_gitt(rec, opt);
  // ORACLES: pulse = |I| >= 0.5 max|I| = 0.000362724 A; 183 pulses, 92 positive, 91 negative.
  EXPECT_NEAR(r.method.pulse_current_a, 0.000362724, 1e-9);
  ASSERT_EQ(r.pulses.size(), 183u);
  EXPECT_EQ(std::count_if(r.pulses.begin(), r.pulses.end(), [](const oc::GittPulse& p) { return p.current_a > 0; }), 92);
  std::vector<double> tau;
  for (const auto& p : r.pulses) tau.push_back(p.tau_s);
  std::nth_element(tau.begin(), tau.begin() + 91, tau.end());
  EXPECT_NEAR(tau[91], 180.006688, 1e-4);  // median pulse duration
  EXPECT_NEAR(*std::min_element(tau.begin(), tau.end()), 148.604204, 1e-4);
  // First three pulses: start (Test_Time minus the first row's 30.0007386 s), duration, V_first, V_last,
  // charge passed (trapezoid, Ah -> mAh).
  const double t_first_row_s = 30.0007386;
  const struct {
    double t_first_s, duration_s, v_first, v_last, charge_ah;
  } want[] = {{21600.0595, 180.006677, 3.4946275, 3.5446861, 3.62336141e-05},
              {22680.0852, 180.006641, 3.5044551, 3.5508282, 3.62339325e-05},
              {23760.11, 180.00722, 3.5130539, 3.5578916, 3.62366477e-05}};
  for (int i = 0; i < 3; ++i) {
    const oc::GittPulse& p = r.pulses[static_cast<size_t>(i)];
    EXPECT_NEAR(p.t_start_s, want[i].t_first_s - t_first_row_s, 1e-3) << i;
    EXPECT_NEAR(p.tau_s, want[i].duration_s, 1e-5) << i;
    EXPECT_NEAR(p.pulse_first_v, want[i].v_first, 1e-6) << i;
    EXPECT_NEAR(p.pulse_last_v, want[i].v_last, 1e-6) << i;
    // dEt ends on a line through the pulse's last 10 %: within the rows' scatter of the last row.
    EXPECT_NEAR(p.dEt_v, want[i].v_last - want[i].v_first, 3 * p.voltage_pulse_end_sigma_v + 2e-4) << i;
    EXPECT_NEAR(p.capacity_mah, want[i].charge_ah * 1e3, 1e-5 * want[i].charge_ah * 1e3) << i;
    EXPECT_GT(p.current_a, 0) << i;
  }
}
