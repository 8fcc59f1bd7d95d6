// GITT (galvanostatic intermittent titration) analysis of a cycler record: pulse and rest detection,
// per pulse the relaxed voltages, ohmic jump, dEs and dEt, and the chemical diffusion coefficient by
// three routes:
//   D_wh    Weppner-Huggins, dE form:      D = 4/(pi tau) L^2 (dEs/dEt)^2
//   D_sqrt  Weppner-Huggins, sqrt(t) form: D = 4/pi (I V_M/(z F S))^2 ((dEs/dx)/(dE/dsqrt t))^2,
//           which with dx = I tau/(z F n) and L = n V_M/S becomes D = 4/pi (L dEs/(tau m))^2,
//           m = dE/dsqrt(t) from a least-squares line of E against sqrt(t) over the pulse rows after
//           the first (the first row carries the ohmic jump). For E - E0 = m sqrt(t) exactly,
//           dEt = m sqrt(tau) and D_sqrt = D_wh.
//   D_fit   least-squares fit of the pulse transient and the following relaxation with the full
//           solution for a sphere under constant surface flux (Crank, The Mathematics of Diffusion,
//           2nd ed., sec. 6.3, sphere with constant flux F0 at r = a):
//             c_s - c0 = (F0 a/D) g(D t/a^2),  g(th) = 3 th + 1/5 - 2 sum_n exp(-alpha_n^2 th)/alpha_n^2,
//           alpha_n the positive roots of tan(alpha) = alpha; relaxation by superposition
//           (g(th) - g(th - th_tau)). With a linear OCV the voltage is E = a0 + k g on the rest and
//           a1 + k g on the pulse (a1 - a0 = ohmic drop), so D is a 1-D search with (a0, a1, k) by
//           linear least squares at each D. The sphere radius is a = 3 L (r/3 = V/S for a sphere;
//           for the area form this is the sphere with the same volume-to-surface ratio).
// L = r/3 for spherical particles of radius r (`radius_cm`), else L = m V_M/(M S) = m/(density S)
// from `mass_g`, `area_cm2`, `density_g_cm3` (`molar_mass_g_mol` only through V_M = M/density, and
// required so that the inputs match the textbook formula).
// References: W. Weppner, R. A. Huggins, J. Electrochem. Soc. 124, 1569 (1977); Y.-S. Kang, W. C. Chueh,
// J. Electrochem. Soc. 168, 120504 (2021) (WH is biased unless tau << L^2/D; fit the full solution).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "correlate/half_cycles.h"

namespace opsync::correlate {

struct GittOptions {
  // Geometry: either radius_cm > 0, or all four of area_cm2, mass_g, molar_mass_g_mol, density_g_cm3.
  double radius_cm = 0;
  double area_cm2 = 0;
  double mass_g = 0;
  double molar_mass_g_mol = 0;
  double density_g_cm3 = 0;

  double pulse_current_a = 0;  // |I| >= this is a pulse row; 0 = half the largest |I| of the record
  double rest_current_a = 0;   // |I| <= this is a rest row; 0 = 1% of the pulse threshold
  // Rest is "relaxed" when the |dE/dt| of a line over its last relaxed_window_fraction of duration
  // (at least 5 rows) is at most this; the residual scatter about the same line is the noise.
  double relaxed_dvdt_v_per_s = 1e-6;
  double relaxed_window_fraction = 0.1;
  double noise_factor = 3;         // dEs_below_noise when |dEs| < noise_factor * rest noise
  double plateau_ratio = 0.05;     // plateau when |dEs/dEt| < this
  double tau_short_max = 0.1;      // tau_not_short when tau D/L^2 > this (D = D_fit, else D_wh)
  bool fit = true;                 // run the spherical-diffusion fit (D_fit)
};

// Everything that shaped the numbers.
struct GittMethod {
  std::string geometry;            // "sphere, L = r/3" or "L = m V_M/(M S)"
  double length_cm = 0;            // L
  double fit_radius_cm = 0;        // 3 L
  double pulse_current_a = 0;      // threshold used
  double rest_current_a = 0;       // threshold used
  double relaxed_dvdt_v_per_s = 0;
  double relaxed_window_fraction = 0;
  double noise_factor = 0;
  double plateau_ratio = 0;
  double tau_short_max = 0;
  std::string wh_formula = "D_wh = 4/(pi tau) L^2 (dEs/dEt)^2";
  std::string sqrt_formula =
      "D_sqrt = 4/pi (L dEs/(tau m))^2, m = dE/dsqrt(t) fitted over pulse rows after the first";
  std::string fit_model =
      "sphere, constant surface flux (Crank 6.3) with superposed relaxation, linear OCV; a0, a1, k linear, "
      "log D by grid + golden section";
  std::string tau_convention = "tau = time of last pulse row - time of first pulse row";
};

// Doubles that could not be evaluated (no rest before/after, too few rows, fit failed) are NaN.
struct GittPulse {
  std::size_t index = 0;
  std::size_t begin = 0, end = 0;           // pulse rows [begin, end)
  std::size_t rest_end = 0;                 // rest rows after the pulse are [end, rest_end)
  int64_t t_start_ns = 0, t_end_ns = 0;     // absolute (reference clock)
  double t_start_s = 0, t_end_s = 0;        // relative to the record's first row
  double tau_s = 0;
  double current_a = 0;                     // median over the pulse rows, signed (+ = charge)
  double voltage_relaxed_before_v = 0;      // last row of the rest before the pulse
  double voltage_relaxed_v = 0;             // last row of the rest after the pulse
  double capacity_mah = 0;                  // |charge| passed during the pulse
  double dEs_v = 0;                         // voltage_relaxed_v - voltage_relaxed_before_v
  double dEt_v = 0;                         // last pulse row - first pulse row
  double ir_drop_v = 0;                     // first pulse row - voltage_relaxed_before_v
  double sqrt_slope_v_per_sqrt_s = 0;       // m of the sqrt(t) fit
  double rest_dvdt_v_per_s = 0;             // at the end of the rest after
  double rest_noise_v = 0;
  double D_wh_cm2_s = 0;
  double D_sqrt_cm2_s = 0;
  double D_fit_cm2_s = 0;
  bool valid = false;                       // no flags
  std::vector<std::string> flags;  // tau_not_short, rest_not_relaxed, dEs_below_noise, dEt_not_positive,
                                   // plateau, no_rest_before, no_rest_after, too_few_rows, fit_at_bound
};

struct GittResult {
  std::vector<GittPulse> pulses;
  GittMethod method;
};

// Dimensionless surface response of a sphere to a unit constant flux (see top); g(0) = 0,
// g(th) ~ 2 sqrt(th/pi) + th for small th, 3 th + 1/5 for large. Exposed for tests and plots.
double sphere_surface_response(double theta);

// Throws InputError when the record is bad, carries no current, has no pulses, or the geometry
// inputs are missing (the message names the missing ones).
GittResult analyze_gitt(const CyclerRecord& rec, const GittOptions& opt);

}  // namespace opsync::correlate
