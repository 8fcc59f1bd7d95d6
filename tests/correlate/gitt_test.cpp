// GITT analysis against records simulated here with known truth: a spherical particle of radius r and
// diffusion coefficient D under constant-flux pulses, surface concentration from Crank's series
// (The Mathematics of Diffusion, sec. 6.3) summed directly with its own roots (bisection here, not the
// library's short-time closed form), superposed over all pulses; linear OCV (voltage = k I g), ohmic
// drop I R, optional first-order overpotential and Gaussian noise. Weppner-Huggins: J. Electrochem.
// Soc. 124, 1569 (1977); its bias for tau not << r^2/D: Kang & Chueh, J. Electrochem. Soc. 168, 120504.
#include "correlate/gitt.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "correlate/errors.h"

namespace oc = opsync::correlate;

namespace {

constexpr double kD = 1e-11;        // cm^2/s, truth
constexpr double kR = 1e-4;         // cm (1 um radius): r^2/D = 1000 s
constexpr double kE0 = 3.7;         // V
constexpr double kROhm = 2.0;       // ohm: 2 mV jump at 1 mA
constexpr double kIA = 1e-3;        // pulse current magnitude

// Roots of tan(a) = a by bisection of sin a - a cos a on (n pi, n pi + pi/2).
const std::vector<double>& roots() {
  static const std::vector<double> r = [] {
    std::vector<double> out;
    for (int n = 1; n <= 4000; ++n) {
      double lo = n * std::numbers::pi, hi = lo + std::numbers::pi / 2;
      auto f = [](double a) { return std::sin(a) - a * std::cos(a); };
      const double flo = f(lo);
      for (int it = 0; it < 100; ++it) {
        const double mid = 0.5 * (lo + hi);
        if ((f(mid) > 0) == (flo > 0)) lo = mid; else hi = mid;
      }
      out.push_back(0.5 * (lo + hi));
    }
    return out;
  }();
  return r;
}

// Crank's series, g(th) = 3 th + 1/5 - 2 sum exp(-a_n^2 th)/a_n^2, summed until the terms underflow.
double g_truth(double th) {
  if (th <= 0) return 0;
  double s = 0;
  for (const double a : roots()) {
    if (a * a * th > 700) break;
    s += std::exp(-a * a * th) / (a * a);
  }
  return 3 * th + 0.2 - 2 * s;
}

struct SimPulse {
  double tau_s;
  double current_a;
  double rest_s;
};

struct Sim {
  double k_v_per_a = 0;   // OCV response per ampere per unit g
  double eta_v = 0;       // first-order overpotential amplitude (plateau test)
  double tau_ct_s = 10;
  double noise_v = 0;
  int pulse_rows = 200;
  double rest_dt_s = 2;
  std::vector<SimPulse> pulses;
};

struct TruthPulse {
  std::size_t begin, end, rest_end;
  double t_start_s, t_end_s;
};

struct SimRecord {
  oc::CyclerRecord rec;
  std::vector<TruthPulse> truth;
};

// k that makes dEs = 10 mV per pulse at th_tau = D tau / r^2 (dEs = k I 3 th_tau).
double k_for(double th_tau) { return 0.01 / (3 * th_tau * kIA); }

SimRecord simulate(const Sim& sim) {
  SimRecord out;
  struct Row { double t, i; };
  std::vector<Row> rows;
  for (int k = 0; k < 10; ++k) rows.push_back({10.0 * k, 0});  // initial open circuit
  double t = 100;
  for (const auto& p : sim.pulses) {
    TruthPulse tp{};
    tp.begin = rows.size();
    tp.t_start_s = t;
    for (int k = 0; k < sim.pulse_rows; ++k) rows.push_back({t + p.tau_s * k / (sim.pulse_rows - 1), p.current_a});
    tp.end = rows.size();
    tp.t_end_s = t + p.tau_s;
    t += p.tau_s;
    const int n_rest = static_cast<int>(std::lround(p.rest_s / sim.rest_dt_s));
    for (int k = 1; k <= n_rest; ++k) rows.push_back({t + sim.rest_dt_s * k, 0});
    tp.rest_end = rows.size();
    t += sim.rest_dt_s * n_rest + sim.rest_dt_s;
    out.truth.push_back(tp);
  }
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0, 1);
  for (const auto& row : rows) {
    double e = kE0 + row.i * kROhm;
    for (std::size_t j = 0; j < sim.pulses.size(); ++j) {
      const double ts = out.truth[j].t_start_s, te = out.truth[j].t_end_s, ij = sim.pulses[j].current_a;
      e += sim.k_v_per_a * ij * (g_truth(kD * (row.t - ts) / (kR * kR)) - g_truth(kD * (row.t - te) / (kR * kR)));
      auto first_order = [&](double dt) { return dt <= 0 ? 0.0 : 1 - std::exp(-dt / sim.tau_ct_s); };
      e += (ij > 0 ? 1 : -1) * sim.eta_v * (first_order(row.t - ts) - first_order(row.t - te));
    }
    if (sim.noise_v > 0) e += sim.noise_v * noise(rng);
    out.rec.t_ns.push_back(1'700'000'000'000'000'000LL + std::llround(row.t * 1e9));
    out.rec.voltage_v.push_back(e);
    out.rec.current_a.push_back(row.i);
  }
  return out;
}

// Three pulses (charge, charge, discharge) at th_tau = D tau / r^2, rests of r^2/D (fully relaxed).
Sim standard(double th_tau, double noise_v = 0) {
  Sim s;
  const double tau = th_tau * kR * kR / kD;
  s.k_v_per_a = k_for(th_tau);
  s.noise_v = noise_v;
  s.pulses = {{tau, kIA, 1000}, {tau, kIA, 1000}, {tau, -kIA, 1000}};
  return s;
}

oc::GittOptions sphere() {
  oc::GittOptions o;
  o.radius_cm = kR;
  return o;
}

bool has_flag(const oc::GittPulse& p, const std::string& f) {
  return std::find(p.flags.begin(), p.flags.end(), f) != p.flags.end();
}

}  // namespace

TEST(GittSeries, LibraryResponseMatchesCrankSeries) {
  for (const double th : {1e-4, 1e-3, 0.01, 0.049, 0.05, 0.1, 0.3, 1.0, 5.0}) {
    EXPECT_NEAR(oc::sphere_surface_response(th), g_truth(th), 1e-8 * (1 + g_truth(th))) << th;
  }
}

TEST(Gitt, WeppnerHugginsAsEvaluatedByHand) {
  const auto sim = simulate(standard(0.1));
  const auto res = oc::analyze_gitt(sim.rec, sphere());
  ASSERT_EQ(res.pulses.size(), 3U);
  const auto& v = sim.rec.voltage_v;
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& tp = sim.truth[k];
    const auto& p = res.pulses[k];
    const double des = v[tp.rest_end - 1] - v[tp.begin - 1];
    const double det = v[tp.end - 1] - v[tp.begin];
    const double tau = tp.t_end_s - tp.t_start_s;
    const double d_hand = 4 / (std::numbers::pi * tau) * (kR / 3) * (kR / 3) * (des / det) * (des / det);
    EXPECT_NEAR(p.D_wh_cm2_s / d_hand, 1.0, 0.01) << k;
    // Relaxed voltages and the pulse's end come from lines through the last rows (noise-free here):
    // the flat rests give the last rows to rounding; the bent end of the pulse costs 2e-4 of dEt.
    EXPECT_NEAR(p.dEs_v, des, 1e-9);
    EXPECT_NEAR(p.dEt_v / det, 1.0, 5e-4);
    EXPECT_EQ(p.pulse_first_v, v[tp.begin]);
    EXPECT_EQ(p.pulse_last_v, v[tp.end - 1]);
    // Against the model's truth: dEs = k I 3 th_tau, the jump is I R.
    const double sign = k < 2 ? 1.0 : -1.0;
    EXPECT_NEAR(p.dEs_v, sign * 0.01, 1e-6) << k;
    EXPECT_NEAR(p.ir_drop_v, sign * kIA * kROhm, 1e-9) << k;
    EXPECT_NEAR(p.voltage_relaxed_v, kE0 + 0.01 * (k < 2 ? double(k + 1) : 1.0), 1e-6) << k;
  }
}

TEST(Gitt, FitRecoversTrueDWhereWeppnerHugginsIsBiased) {
  for (const double noise_v : {0.0, 50e-6}) {
    for (const double th_tau : {0.02, 0.1, 0.3}) {
      const auto sim = simulate(standard(th_tau, noise_v));
      const auto res = oc::analyze_gitt(sim.rec, sphere());
      ASSERT_EQ(res.pulses.size(), 3U);
      for (const auto& p : res.pulses) {
        std::printf("tau/(r^2/D) = %.2f noise %.0f uV pulse %zu (I %+.0e A): D_fit/D = %.4f, D_wh/D = %.4f, "
                    "D_sqrt/D = %.4f\n",
                    th_tau, noise_v * 1e6, p.index, p.current_a, p.D_fit_cm2_s / kD, p.D_wh_cm2_s / kD,
                    p.D_sqrt_cm2_s / kD);
        EXPECT_NEAR(p.D_fit_cm2_s / kD, 1.0, 0.10) << th_tau << " pulse " << p.index;
      }
      if (th_tau == 0.3) {
        // WH assumes semi-infinite diffusion; at 0.3 the curvature term makes it far too low.
        EXPECT_GT(std::abs(res.pulses[0].D_wh_cm2_s / kD - 1), 0.10);
      }
    }
  }
}

TEST(Gitt, SqrtFormEqualsDeFormForIdealSqrtTransient) {
  // E = E_before + I R + m sqrt(t) during the pulse, E_before + dEs on the rest.
  oc::CyclerRecord rec;
  const double m = 2e-3, des = 4e-3, tau = 400;
  auto add = [&](double t, double e, double i) {
    rec.t_ns.push_back(std::llround(t * 1e9));
    rec.voltage_v.push_back(e);
    rec.current_a.push_back(i);
  };
  for (int k = 0; k < 5; ++k) add(k, kE0, 0);
  for (int k = 0; k <= 100; ++k) add(10 + tau * k / 100, kE0 + kIA * kROhm + m * std::sqrt(tau * k / 100), kIA);
  for (int k = 1; k <= 50; ++k) add(10 + tau + 10 * k, kE0 + des, 0);
  const auto res = oc::analyze_gitt(rec, sphere());
  ASSERT_EQ(res.pulses.size(), 1U);
  const auto& p = res.pulses[0];
  const double L = kR / 3;
  const double d_set = 4 / (std::numbers::pi * tau) * L * L * std::pow(des / (m * std::sqrt(tau)), 2);
  EXPECT_NEAR(p.sqrt_slope_v_per_sqrt_s / m, 1.0, 1e-9);
  EXPECT_NEAR(p.D_sqrt_cm2_s / d_set, 1.0, 1e-9);
  // dEt's end is a line through the last 10 % of a sqrt(t) curve: 2e-4 of dEt low, 4e-4 in D.
  EXPECT_NEAR(p.D_wh_cm2_s / d_set, 1.0, 6e-4);
}

TEST(Gitt, DetectsPulsesOfAnyLengthAndSign) {
  Sim s;
  s.k_v_per_a = k_for(0.1);
  s.pulses = {{20, 0.8 * kIA, 500}, {300, -2 * kIA, 800}, {75, 0.6 * kIA, 1000}};
  // 0.8 and 0.6 mA are below half of the 2 mA maximum; give the threshold explicitly.
  auto opt = sphere();
  opt.pulse_current_a = 0.4 * kIA;
  const auto sim = simulate(s);
  const auto res = oc::analyze_gitt(sim.rec, opt);
  ASSERT_EQ(res.pulses.size(), 3U);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& p = res.pulses[k];
    const auto& tp = sim.truth[k];
    EXPECT_EQ(p.begin, tp.begin);
    EXPECT_EQ(p.end, tp.end);
    EXPECT_EQ(p.rest_end, tp.rest_end);
    EXPECT_NEAR(p.t_start_s, tp.t_start_s, 1e-6);
    EXPECT_NEAR(p.t_end_s, tp.t_end_s, 1e-6);
    EXPECT_NEAR(p.tau_s, s.pulses[k].tau_s, 1e-6);
    EXPECT_EQ(p.t_start_ns, sim.rec.t_ns[tp.begin]);
    EXPECT_NEAR(p.current_a, s.pulses[k].current_a, 1e-15);
    EXPECT_NEAR(p.capacity_mah, std::abs(s.pulses[k].current_a) * s.pulses[k].tau_s / 3.6, 1e-9);
  }
  // Default threshold (half of 2 mA) misses the small pulses: only the 2 mA one is a pulse.
  EXPECT_EQ(oc::analyze_gitt(sim.rec, sphere()).pulses.size(), 1U);
}

TEST(Gitt, DischargePulse) {
  const auto sim = simulate(standard(0.1));
  const oc::GittResult res = oc::analyze_gitt(sim.rec, sphere());  // a reference into a temporary would dangle
  const auto& p = res.pulses[2];
  EXPECT_LT(p.current_a, 0);
  EXPECT_NEAR(p.dEs_v, -0.01, 1e-6);
  EXPECT_LT(p.dEt_v, 0);
  EXPECT_FALSE(has_flag(p, "dEt_not_positive"));
  EXPECT_NEAR(p.D_fit_cm2_s / kD, 1.0, 0.02);
  EXPECT_NEAR(p.D_wh_cm2_s, res.pulses[1].D_wh_cm2_s, 1e-3 * p.D_wh_cm2_s);  // same magnitude as the charge pulse of equal length
}

TEST(Gitt, ShortPulsesOnASlopeAreValid) {
  const auto sim = simulate(standard(0.005));
  const auto res = oc::analyze_gitt(sim.rec, sphere());
  for (const auto& p : res.pulses) {
    EXPECT_TRUE(p.valid) << p.index << ": " << (p.flags.empty() ? "" : p.flags[0]);
    EXPECT_NEAR(p.D_fit_cm2_s / kD, 1.0, 0.05);
  }
}

TEST(Gitt, FlagsTauNotShort) {
  const auto res = oc::analyze_gitt(simulate(standard(0.3)).rec, sphere());
  for (const auto& p : res.pulses) EXPECT_TRUE(has_flag(p, "tau_not_short")) << p.index;
}

TEST(Gitt, FlagsUnrelaxedRest) {
  auto s = standard(0.1);
  s.pulses[0].rest_s = 20;
  const auto res = oc::analyze_gitt(simulate(s).rec, sphere());
  EXPECT_TRUE(has_flag(res.pulses[0], "rest_not_relaxed"));
  EXPECT_FALSE(has_flag(res.pulses[1], "rest_not_relaxed"));
  EXPECT_GT(std::abs(res.pulses[0].rest_dvdt_v_per_s), 1e-6);
}

TEST(Gitt, FlagsPlateau) {
  // Nearly flat OCV (dEs 10 uV) with a 20 mV first-order overpotential building during the pulse.
  auto s = standard(0.1);
  s.k_v_per_a = k_for(0.1) * 1e-3;
  s.eta_v = 0.02;
  const auto res = oc::analyze_gitt(simulate(s).rec, sphere());
  for (const auto& p : res.pulses) {
    EXPECT_TRUE(has_flag(p, "plateau")) << p.index;
    EXPECT_FALSE(p.valid);
  }
  for (const auto& p : oc::analyze_gitt(simulate(standard(0.1)).rec, sphere()).pulses) {
    EXPECT_FALSE(has_flag(p, "plateau"));
  }
}

TEST(Gitt, FlagsDEsBelowNoise) {
  auto s = standard(0.1, 1e-3);  // 1 mV noise against 10 uV steps
  s.k_v_per_a = k_for(0.1) * 1e-3;
  const auto res = oc::analyze_gitt(simulate(s).rec, sphere());
  for (const auto& p : res.pulses) EXPECT_TRUE(has_flag(p, "dEs_below_noise")) << p.index;
  for (const auto& p : oc::analyze_gitt(simulate(standard(0.1, 50e-6)).rec, sphere()).pulses) {
    EXPECT_FALSE(has_flag(p, "dEs_below_noise"));
  }
}

TEST(Gitt, AreaFormEqualsSphereFormForSameLength) {
  const auto sim = simulate(standard(0.1));
  oc::GittOptions o;
  o.area_cm2 = 2.0;
  o.density_g_cm3 = 4.0;
  o.molar_mass_g_mol = 97.9;
  o.mass_g = (kR / 3) * o.density_g_cm3 * o.area_cm2;  // m V_M/(M S) = m/(rho S) = r/3
  const auto a = oc::analyze_gitt(sim.rec, o);
  const auto b = oc::analyze_gitt(sim.rec, sphere());
  EXPECT_NEAR(a.method.length_cm, kR / 3, 1e-15);
  EXPECT_NEAR(a.pulses[0].D_wh_cm2_s / b.pulses[0].D_wh_cm2_s, 1.0, 1e-9);
}

TEST(Gitt, ErrorsSayWhatIsMissing) {
  const auto sim = simulate(standard(0.1));
  oc::GittOptions o;
  o.area_cm2 = 1;
  o.mass_g = 1;
  try {
    oc::analyze_gitt(sim.rec, o);
    FAIL() << "no geometry accepted";
  } catch (const oc::InputError& e) {
    const std::string w = e.what();
    const auto at = w.find("missing or not positive: ");
    ASSERT_NE(at, std::string::npos) << w;
    EXPECT_EQ(w.substr(at + 25), "molar_mass_g_mol, density_g_cm3") << w;  // area and mass were given
  }
  auto no_current = sim.rec;
  std::fill(no_current.current_a.begin(), no_current.current_a.end(), 0.0);
  EXPECT_THROW(oc::analyze_gitt(no_current, sphere()), oc::InputError);
  auto high = sphere();
  high.pulse_current_a = 1.0;  // no row reaches 1 A
  EXPECT_THROW(oc::analyze_gitt(sim.rec, high), oc::InputError);
}
