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
//           (g(th) - g(th - th_tau)). With a linear OCV the voltage is E = a0 + k G on the rest and
//           a1 + k G on the pulse (a1 - a0 = ohmic drop), so D is a 1-D search with (a0, a1, k) by
//           linear least squares at each D. G superposes the earlier pulses of the sequence too,
//           each weighted by its current: after a rest that is short against a^2/D they are still
//           relaxing, and that drift, left out, read as slow diffusion (D_fit 3-5 % low, drifting
//           lower pulse by pulse, on the finite-volume cell of tests/correlate). The tail of the
//           rest before the pulse shares a0 with the rest after, so dEs itself constrains D, as in
//           Weppner-Huggins. The sphere radius is a = 3 L (r/3 = V/S for a sphere; for the area
//           form this is the sphere with the same volume-to-surface ratio).
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
  double relaxed_window_fraction = 0.1;  // the shortest tail tried for a relaxed voltage
  double noise_factor = 3;         // dEs_below_noise when |dEs| < noise_factor * its standard uncertainty
  double plateau_ratio = 0.05;     // plateau when |dEs/dEt| < this
  double tau_short_max = 0.1;      // tau_not_short when tau D/L^2 > this (D = D_fit, else D_wh)
  bool fit = true;                 // run the spherical-diffusion fit (D_fit)
  // Let the fit's OCV bend over the pulse (E = a + k G + q G^2). Off, a curved OCV biases D_fit:
  // -2.5 % on the finite-volume cell's stage 2, where the slope changes 8 % across a pulse.
  bool fit_ocv_curvature = true;
  // Superpose the relaxation of the earlier pulses of the sequence. Off, their drift reads as slow
  // diffusion: -2 to -5 %, worse pulse by pulse, when rests are short against a^2/D.
  bool fit_history = true;
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
      "sphere, constant surface flux (Crank 6.3), OCV quadratic in the surface response (E = a + k G + q G^2) "
      "over the pulse; the pulse, the rest after it and "
      "the tail of the rest before it, with the relaxation of the earlier pulses of the sequence superposed; "
      "a0 (rest), a1 (pulse), k linear, log D by grid + golden section; sigma from the profile's curvature";
  std::string relaxed_voltage =
      "line through the rest's tail (longest of 10/20/30/50 % without curvature significant at 2 sigma), "
      "value at the rest's last row";
  std::string uncertainty =
      "standard uncertainties from the rows' scatter, propagated: D_wh (2 dEs, 2 dEt, tau), D_sqrt (2 dEs, "
      "2 m, 2 tau), D_fit (profile curvature, tau); model error not included";
  std::string tau_convention = "tau = time of last pulse row - time of first pulse row";
};

// An estimate with its standard uncertainty (NaN when the data cannot say).
struct Estimate {
  double value = 0;
  double sigma = 0;
};

// Doubles that could not be evaluated (no rest before/after, too few rows, fit failed) are NaN.
// Every *_sigma_* is a standard uncertainty (one sigma) from the scatter of the rows that gave the
// value; it does not include the model's own error (see docs/correlate.md for that, measured).
struct GittPulse {
  std::size_t index = 0;
  std::size_t begin = 0, end = 0;           // pulse rows [begin, end)
  std::size_t rest_end = 0;                 // rest rows after the pulse are [end, rest_end)
  int64_t t_start_ns = 0, t_end_ns = 0;     // absolute (reference clock)
  double t_start_s = 0, t_end_s = 0;        // relative to the record's first row
  double tau_s = 0;
  double tau_sigma_s = 0;                   // the switching instants are known to the row spacing
  double current_a = 0;                     // median over the pulse rows, signed (+ = charge)
  double pulse_first_v = 0, pulse_last_v = 0;  // the first and last pulse rows as recorded
  double pulse_first_sigma_v = 0;           // the rest's noise: a single sample
  // Relaxed voltages: a line through the tail of the rest (the longest of 10, 20, 30, 50 % of it
  // without significant curvature), evaluated at the rest's last row.
  double voltage_relaxed_before_v = 0, voltage_relaxed_before_sigma_v = 0;
  double voltage_relaxed_v = 0, voltage_relaxed_sigma_v = 0;
  double rest_window_before_s = 0, rest_window_s = 0;  // the tails used
  double voltage_pulse_end_v = 0, voltage_pulse_end_sigma_v = 0;  // E(tau): a line over the last 10 %
  double capacity_mah = 0;                  // |charge| passed during the pulse
  double dEs_v = 0, dEs_sigma_v = 0;        // voltage_relaxed_v - voltage_relaxed_before_v
  double dEt_v = 0, dEt_sigma_v = 0;        // voltage_pulse_end_v - pulse_first_v
  double ir_drop_v = 0;                     // pulse_first_v - voltage_relaxed_before_v
  double sqrt_slope_v_per_sqrt_s = 0, sqrt_slope_sigma = 0;  // m of the sqrt(t) fit
  double rest_dvdt_v_per_s = 0, rest_dvdt_sigma_v_per_s = 0;  // drift left at the end of the rest after
  double rest_noise_v = 0;                  // residual scatter about that line
  double D_wh_cm2_s = 0, D_wh_sigma_cm2_s = 0;
  double D_sqrt_cm2_s = 0, D_sqrt_sigma_cm2_s = 0;
  double D_fit_cm2_s = 0, D_fit_sigma_cm2_s = 0;
  std::size_t fit_history_pulses = 0;       // earlier pulses whose relaxation the fit superposed
  double fit_rms_v = 0;
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
