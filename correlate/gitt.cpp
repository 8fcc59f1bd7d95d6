// GITT analysis; formulas, conventions and references in gitt.h.
#include "correlate/gitt.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "correlate/errors.h"
#include "correlate/gitt_fit.h"
#include "correlate/least_squares.h"

namespace opsync::correlate {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double median(std::vector<double> v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return 0.5 * (*mid + *std::max_element(v.begin(), mid));
}

// Rows [first, end) of the record as seconds since `origin` and volts.
struct Rows {
  const CyclerRecord& rec;
  double t_s(std::size_t i, std::size_t origin) const {
    return static_cast<double>(rec.t_ns[i] - rec.t_ns[origin]) * kSecondsPerNs;
  }
};

// A relaxed voltage from the tail of a rest [first, end): a line through the last 10 % of its
// duration (at least 5 rows), lengthened to 20, 30 and 50 % while a quadratic term stays within
// 2 sigma (a longer window averages more noise; curvature means the relaxation is still visible
// there and the line would bend the estimate). The value is the line at the last row.
struct Tail {
  Estimate value{kNaN, kNaN};
  double slope = kNaN, slope_sigma = kNaN, noise = kNaN;
  std::size_t first = 0;   // first row used
  double window_s = 0;
};

Tail rest_tail(const Rows& rows, std::size_t first, std::size_t end, double min_fraction) {
  Tail out;
  const std::size_t n = end - first;
  if (n == 0) return out;
  out.value = {rows.rec.voltage_v[end - 1], kNaN};
  out.first = end - 1;
  if (n < 3) return out;
  const double duration = rows.t_s(end - 1, first);
  bool have = false;
  for (const double f : {min_fraction, 0.2, 0.3, 0.5}) {
    if (have && f <= min_fraction) continue;
    std::size_t w = end - 1;
    while (w > first && (rows.t_s(end - 1, w - 1) <= f * duration || end - w < 5)) --w;
    std::vector<double> one, dt, dt2, v;
    for (std::size_t k = w; k < end; ++k) {
      const double x = -rows.t_s(end - 1, k);  // <= 0, 0 at the last row
      one.push_back(1);
      dt.push_back(x);
      dt2.push_back(x * x);
      v.push_back(rows.rec.voltage_v[k]);
    }
    if (have && v.size() >= 6) {
      const LeastSquares quad = least_squares({one, dt, dt2}, v);
      if (quad.ok() && std::abs(quad.coef[2]) > 2 * quad.sigma(2)) break;
    }
    const LeastSquares line = least_squares({one, dt}, v);
    if (!line.ok()) break;
    out.value = {line.coef[0], line.sigma(0)};
    out.slope = line.coef[1];
    out.slope_sigma = line.sigma(1);
    out.noise = line.residual_sd;
    out.first = w;
    out.window_s = rows.t_s(end - 1, w);
    have = true;
    if (w == first) break;
  }
  return out;
}

// E(tau) of a pulse [i, j): a line over its last 10 % (at least 3 rows), at the last row.
Estimate pulse_end(const Rows& rows, std::size_t i, std::size_t j, double tau_s, double noise_v) {
  std::vector<double> one, dt, v;
  for (std::size_t k = j; k-- > i;) {
    const double x = -rows.t_s(j - 1, k);
    if (-x > 0.1 * tau_s && v.size() >= 3) break;
    one.push_back(1);
    dt.push_back(x);
    v.push_back(rows.rec.voltage_v[k]);
  }
  if (v.size() >= 3) {
    const LeastSquares fit = least_squares({one, dt}, v);
    if (fit.ok()) return {fit.coef[0], fit.sigma(0)};
  }
  return {rows.rec.voltage_v[j - 1], noise_v};
}

double length_cm(const GittOptions& opt, GittMethod& method) {
  if (opt.radius_cm > 0) {
    method.geometry = "sphere, L = r/3";
    return opt.radius_cm / 3;
  }
  std::vector<std::string> missing;
  if (!(opt.area_cm2 > 0)) missing.emplace_back("area_cm2");
  if (!(opt.mass_g > 0)) missing.emplace_back("mass_g");
  if (!(opt.molar_mass_g_mol > 0)) missing.emplace_back("molar_mass_g_mol");
  if (!(opt.density_g_cm3 > 0)) missing.emplace_back("density_g_cm3");
  if (!missing.empty()) {
    throw InputError(fmt::format("GITT needs the diffusion length: give radius_cm (spherical particles) or "
                                 "area_cm2, mass_g, molar_mass_g_mol and density_g_cm3; missing or not "
                                 "positive: {}",
                                 fmt::join(missing, ", ")));
  }
  method.geometry = "L = m V_M/(M S), V_M = M/density";
  const double vm_cm3_mol = opt.molar_mass_g_mol / opt.density_g_cm3;
  return opt.mass_g * vm_cm3_mol / (opt.molar_mass_g_mol * opt.area_cm2);
}

}  // namespace

namespace {

// The earlier pulses of the same sequence (each one's rest running up to the next pulse), as
// current steps relative to pulse p, for the fit to superpose: the last kFitHistoryMax of them.
// More would only matter with rests under a^2/(14 D), far shorter than any GITT protocol uses, and
// the cost grows with the count (at the small trial D of the search every one of them counts).
constexpr std::size_t kFitHistoryMax = 16;
std::vector<FitStep> fit_history(const Rows& rows, const std::vector<GittPulse>& earlier, const GittPulse& p) {
  std::vector<FitStep> out;
  std::size_t next_begin = p.begin;
  for (std::size_t k = earlier.size(); k-- > 0 && out.size() < kFitHistoryMax;) {
    const GittPulse& e = earlier[k];
    if (e.rest_end != next_begin) break;  // something other than a rest came between
    // Times relative to p's first row: negative.
    out.push_back({rows.t_s(e.begin, p.begin), rows.t_s(e.end - 1, p.begin), e.current_a / p.current_a});
    next_begin = e.begin;
  }
  return out;
}

// D_fit over the pulse, the rest after it and the tail of the rest before it.
void fit_pulse(const Rows& rows, const GittOptions& opt, const GittMethod& m, const std::vector<GittPulse>& earlier,
               std::size_t before_first, GittPulse& p) {
  SphereFitInput in;
  in.tau_s = p.tau_s;
  in.quadratic_ocv = opt.fit_ocv_curvature;
  for (std::size_t k = before_first; k < p.begin; ++k) {
    in.rest_t_s.push_back(rows.t_s(k, p.begin));
    in.rest_v.push_back(rows.rec.voltage_v[k]);
  }
  for (std::size_t k = p.begin; k < p.end; ++k) {
    in.pulse_t_s.push_back(rows.t_s(k, p.begin));
    in.pulse_v.push_back(rows.rec.voltage_v[k]);
  }
  for (std::size_t k = p.end; k < p.rest_end; ++k) {
    in.rest_t_s.push_back(rows.t_s(k, p.begin));
    in.rest_v.push_back(rows.rec.voltage_v[k]);
  }
  if (opt.fit_history) in.history = fit_history(rows, earlier, p);
  p.fit_history_pulses = in.history.size();
  const SphereFit fit = fit_sphere(in);
  p.fit_rms_v = fit.rms_v;
  if (!std::isfinite(fit.th_tau)) {
    p.flags.emplace_back("fit_at_bound");
    return;
  }
  p.D_fit_cm2_s = fit.th_tau * m.fit_radius_cm * m.fit_radius_cm / p.tau_s;
  p.D_fit_sigma_cm2_s = p.D_fit_cm2_s * std::hypot(fit.rel_sigma, p.tau_sigma_s / p.tau_s);
}

// Voltages, dEs and dEt with their uncertainties, the Weppner-Huggins D's, the fit and the flags
// of pulse p, whose rows and current are set.
void evaluate_pulse(const Rows& rows, const GittOptions& opt, const GittMethod& m, const std::vector<GittPulse>& earlier,
                    std::size_t before_first, GittPulse& p) {
  const auto& V = rows.rec.voltage_v;
  const std::size_t i = p.begin, j = p.end, r = p.rest_end, n = rows.rec.t_ns.size();
  const bool rest_before = before_first < i;
  const bool rest_after = r > j;
  const double L = m.length_cm;

  // The switching instants lie between a pulse's edge rows and their neighbours.
  const double gap_on = i > 0 ? rows.t_s(i, i - 1) : 0.0, gap_off = j < n ? rows.t_s(j, j - 1) : 0.0;
  p.tau_sigma_s = std::sqrt((gap_on * gap_on + gap_off * gap_off) / 12);
  p.pulse_first_v = V[i];
  p.pulse_last_v = V[j - 1];

  const Tail before = rest_before ? rest_tail(rows, before_first, i, opt.relaxed_window_fraction) : Tail{};
  const Tail after = rest_after ? rest_tail(rows, j, r, opt.relaxed_window_fraction) : Tail{};
  p.voltage_relaxed_before_v = before.value.value;
  p.voltage_relaxed_before_sigma_v = before.value.sigma;
  p.rest_window_before_s = before.window_s;
  p.voltage_relaxed_v = after.value.value;
  p.voltage_relaxed_sigma_v = after.value.sigma;
  p.rest_window_s = after.window_s;
  p.rest_dvdt_v_per_s = after.slope;
  p.rest_dvdt_sigma_v_per_s = after.slope_sigma;
  p.rest_noise_v = after.noise;
  const double noise = std::isfinite(after.noise) ? after.noise : before.noise;  // for single rows

  // The pulse's first row stays a single sample: on real cells it sits below any smooth
  // extrapolation of the transient to t = 0 (charge transfer and double layer within the first
  // seconds; 8.8 mV on the Arbin GITT fixture), and Weppner-Huggins' dEt starts there.
  const Estimate start{V[i], noise};
  const Estimate stop = j - i >= 2 ? pulse_end(rows, i, j, p.tau_s, noise) : Estimate{kNaN, kNaN};
  p.pulse_first_sigma_v = noise;
  p.voltage_pulse_end_v = stop.value;
  p.voltage_pulse_end_sigma_v = stop.sigma;
  p.ir_drop_v = start.value - p.voltage_relaxed_before_v;
  p.dEs_v = p.voltage_relaxed_v - p.voltage_relaxed_before_v;
  p.dEs_sigma_v = std::hypot(p.voltage_relaxed_sigma_v, p.voltage_relaxed_before_sigma_v);
  p.dEt_v = stop.value - start.value;
  p.dEt_sigma_v = std::hypot(stop.sigma, start.sigma);
  if (!rest_before) p.flags.emplace_back("no_rest_before");
  if (!rest_after) p.flags.emplace_back("no_rest_after");
  if (j - i < 3) p.flags.emplace_back("too_few_rows");
  if (rest_after && !(std::abs(p.rest_dvdt_v_per_s) <= opt.relaxed_dvdt_v_per_s)) {
    p.flags.emplace_back("rest_not_relaxed");
  }
  if (std::abs(p.dEs_v) < opt.noise_factor * p.dEs_sigma_v) p.flags.emplace_back("dEs_below_noise");
  const double sign = p.current_a > 0 ? 1.0 : -1.0;
  if (std::isfinite(p.dEt_v) && sign * p.dEt_v <= 0) p.flags.emplace_back("dEt_not_positive");
  if (std::abs(p.dEs_v / p.dEt_v) < opt.plateau_ratio) p.flags.emplace_back("plateau");

  // Weppner-Huggins, dE form and sqrt(t) form (see gitt.h), with first-order propagation.
  const double rel_des = p.dEs_sigma_v / p.dEs_v, rel_tau = p.tau_sigma_s / p.tau_s;
  p.D_wh_cm2_s = p.tau_s > 0 ? 4 / (std::numbers::pi * p.tau_s) * L * L * std::pow(p.dEs_v / p.dEt_v, 2) : kNaN;
  p.D_wh_sigma_cm2_s = p.D_wh_cm2_s * std::sqrt(std::pow(2 * rel_des, 2) + std::pow(2 * p.dEt_sigma_v / p.dEt_v, 2) +
                                                rel_tau * rel_tau);
  p.sqrt_slope_v_per_sqrt_s = p.sqrt_slope_sigma = kNaN;
  p.D_sqrt_cm2_s = p.D_sqrt_sigma_cm2_s = kNaN;
  if (j - i >= 3) {
    std::vector<double> one, x, y;
    for (std::size_t k = i + 1; k < j; ++k) {
      one.push_back(1);
      x.push_back(std::sqrt(rows.t_s(k, i)));
      y.push_back(V[k]);
    }
    const LeastSquares line = least_squares({one, x}, y);
    if (line.ok()) {
      const double m_slope = line.coef[1];
      p.sqrt_slope_v_per_sqrt_s = m_slope;
      p.sqrt_slope_sigma = line.sigma(1);
      p.D_sqrt_cm2_s = 4 / std::numbers::pi * std::pow(L * p.dEs_v / (p.tau_s * m_slope), 2);
      p.D_sqrt_sigma_cm2_s = p.D_sqrt_cm2_s * std::sqrt(std::pow(2 * rel_des, 2) +
                                                        std::pow(2 * p.sqrt_slope_sigma / m_slope, 2) +
                                                        std::pow(2 * rel_tau, 2));
    }
  }

  p.D_fit_cm2_s = p.D_fit_sigma_cm2_s = kNaN;
  p.fit_rms_v = kNaN;
  if (opt.fit && j - i >= 3 && p.tau_s > 0) fit_pulse(rows, opt, m, earlier, rest_before ? before.first : i, p);
  const double d_check = std::isfinite(p.D_fit_cm2_s) ? p.D_fit_cm2_s : p.D_wh_cm2_s;
  if (p.tau_s * d_check / (L * L) > opt.tau_short_max) p.flags.emplace_back("tau_not_short");
  p.valid = p.flags.empty();
}

}  // namespace

GittResult analyze_gitt(const CyclerRecord& rec, const GittOptions& opt) {
  validate(rec);
  GittResult result;
  GittMethod& m = result.method;
  const double L = length_cm(opt, m);
  m.length_cm = L;
  m.fit_radius_cm = 3 * L;

  const std::size_t n = rec.t_ns.size();
  double max_abs_i = 0;
  for (const double c : rec.current_a) max_abs_i = std::max(max_abs_i, std::abs(c));
  if (n == 0 || max_abs_i == 0) {
    throw InputError("GITT: the record carries no current (no rows, or every current is zero); "
                     "a GITT analysis needs the cycler's current column");
  }
  const double thr = opt.pulse_current_a > 0 ? opt.pulse_current_a : 0.5 * max_abs_i;
  const double rest_thr = opt.rest_current_a > 0 ? opt.rest_current_a : 0.01 * thr;
  m.pulse_current_a = thr;
  m.rest_current_a = rest_thr;
  m.relaxed_dvdt_v_per_s = opt.relaxed_dvdt_v_per_s;
  m.relaxed_window_fraction = opt.relaxed_window_fraction;
  m.noise_factor = opt.noise_factor;
  m.plateau_ratio = opt.plateau_ratio;
  m.tau_short_max = opt.tau_short_max;

  const Rows rows{rec};
  const auto& I = rec.current_a;
  auto is_rest = [&](std::size_t k) { return std::abs(I[k]) <= rest_thr; };
  std::size_t i = 0;
  while (i < n) {
    if (std::abs(I[i]) < thr) {
      ++i;
      continue;
    }
    const bool positive = I[i] > 0;
    std::size_t j = i + 1;
    while (j < n && std::abs(I[j]) >= thr && (I[j] > 0) == positive) ++j;
    std::size_t r = j;
    while (r < n && is_rest(r)) ++r;
    std::size_t before_first = i;
    while (before_first > 0 && is_rest(before_first - 1)) --before_first;

    GittPulse p;
    p.index = result.pulses.size();
    p.begin = i;
    p.end = j;
    p.rest_end = r;
    p.t_start_ns = rec.t_ns[i];
    p.t_end_ns = rec.t_ns[j - 1];
    p.t_start_s = rows.t_s(i, 0);
    p.t_end_s = rows.t_s(j - 1, 0);
    p.tau_s = p.t_end_s - p.t_start_s;
    p.current_a = median(std::vector<double>(I.begin() + static_cast<std::ptrdiff_t>(i),
                                             I.begin() + static_cast<std::ptrdiff_t>(j)));
    double q_c = 0;
    for (std::size_t k = i + 1; k < j; ++k) q_c += 0.5 * (I[k] + I[k - 1]) * rows.t_s(k, k - 1);
    p.capacity_mah = std::abs(q_c) / kCoulombPerMah;
    evaluate_pulse(rows, opt, m, result.pulses, before_first, p);
    result.pulses.push_back(std::move(p));
    i = j;
  }
  if (result.pulses.empty()) {
    throw InputError(fmt::format("GITT: no pulses found (no rows with |I| >= {} A)", thr));
  }
  return result;
}

}  // namespace opsync::correlate
