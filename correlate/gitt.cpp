// GITT analysis; formulas, conventions and references in gitt.h.
#include "correlate/gitt.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "correlate/errors.h"

namespace opsync::correlate {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Positive roots of tan(a) = a: a_n lies in (n pi, n pi + pi/2); the fixed point a = n pi + atan(a)
// contracts (derivative 1/(1 + a^2) < 0.05), so plain iteration converges to machine precision.
constexpr std::size_t kRoots = 40;
const std::array<double, kRoots>& tan_roots() {
  static const std::array<double, kRoots> roots = [] {
    std::array<double, kRoots> r{};
    for (std::size_t n = 0; n < kRoots; ++n) {
      const double base = static_cast<double>(n + 1) * std::numbers::pi;
      double a = base + std::numbers::pi / 2;
      for (int it = 0; it < 200; ++it) a = base + std::atan(a);
      r[n] = a;
    }
    return r;
  }();
  return roots;
}

struct Line {
  double slope = kNaN, intercept = kNaN, residual_sd = kNaN;
};

// Least-squares line; centred sums so that large absolute times do not cost precision.
Line fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  Line out;
  if (n < 2) return out;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx <= 0) return out;
  out.slope = sxy / sxx;
  out.intercept = my - out.slope * mx;
  if (n > 2) {
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double r = y[i] - (out.intercept + out.slope * x[i]);
      ss += r * r;
    }
    out.residual_sd = std::sqrt(ss / static_cast<double>(n - 2));
  }
  return out;
}

double median(std::vector<double> v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return 0.5 * (*mid + *std::max_element(v.begin(), mid));
}

// One group of rows (pulse or rest) shares its own offset (a1 or a0) in the fit.
struct FitGroup {
  std::vector<double> t_rel_s;  // time since the first pulse row
  std::vector<double> voltage_v;
  bool rest = false;
};

// Residual sum of squares of the best (offsets, k) at a given th_tau = D tau / a^2. With one free
// offset per group the offsets are eliminated by centring each group, leaving a 1-parameter fit for k.
double fit_sse(const std::vector<FitGroup>& groups, double tau_s, double th_tau) {
  double sgg = 0, sge = 0, see = 0;
  std::vector<double> g;
  for (const auto& grp : groups) {
    const std::size_t n = grp.t_rel_s.size();
    g.resize(n);
    double mg = 0, me = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double th = grp.t_rel_s[i] / tau_s * th_tau;
      g[i] = sphere_surface_response(th) - (grp.rest ? sphere_surface_response(th - th_tau) : 0.0);
      mg += g[i];
      me += grp.voltage_v[i];
    }
    mg /= static_cast<double>(n);
    me /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double dg = g[i] - mg, de = grp.voltage_v[i] - me;
      sgg += dg * dg;
      sge += dg * de;
      see += de * de;
    }
  }
  if (sgg <= 0) return see;
  return see - sge * sge / sgg;
}

// Best th_tau over 1e-4..1e2 (a coarse scan in log10 first, because the sum of squares over so wide
// a range need not be unimodal; then golden section around the best grid point). Returns NaN when the
// best point is on the edge of the scan (the data do not determine D inside the range).
double fit_th_tau(const std::vector<FitGroup>& groups, double tau_s) {
  constexpr double kLo = -4, kHi = 2, kStep = 0.2;
  const int steps = static_cast<int>(std::lround((kHi - kLo) / kStep));
  int best = 0;
  double best_sse = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= steps; ++i) {
    const double sse = fit_sse(groups, tau_s, std::pow(10.0, kLo + kStep * i));
    if (sse < best_sse) {
      best_sse = sse;
      best = i;
    }
  }
  if (best == 0 || best == steps) return kNaN;
  double a = kLo + kStep * (best - 1), b = kLo + kStep * (best + 1);
  const double invphi = (std::sqrt(5.0) - 1) / 2;
  double c = b - invphi * (b - a), d = a + invphi * (b - a);
  double fc = fit_sse(groups, tau_s, std::pow(10.0, c)), fd = fit_sse(groups, tau_s, std::pow(10.0, d));
  while (b - a > 1e-5) {  // 2e-5 relative in D
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - invphi * (b - a);
      fc = fit_sse(groups, tau_s, std::pow(10.0, c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + invphi * (b - a);
      fd = fit_sse(groups, tau_s, std::pow(10.0, d));
    }
  }
  return std::pow(10.0, 0.5 * (a + b));
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

double sphere_surface_response(double theta) {
  if (theta <= 0) return 0;
  if (theta < 0.05) {
    // Short times: the Laplace transform 1/(p (sqrt(p) coth(sqrt(p)) - 1)) with coth -> 1 inverts to
    // sum_m th^(m/2)/Gamma(m/2 + 1) (m >= 1) = e^th (1 + erf(sqrt th)) - 1; the neglected terms are
    // O(exp(-1/th)) < 3e-9 here, and the series below would need ~1/sqrt(th) terms.
    return std::expm1(theta) + std::exp(theta) * std::erf(std::sqrt(theta));
  }
  double s = 0;
  for (const double a : tan_roots()) {
    const double e = a * a * theta;
    if (e > 50) break;  // the rest of the series is below exp(-50)
    s += std::exp(-e) / (a * a);
  }
  return 3 * theta + 0.2 - 2 * s;
}

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

  const auto& I = rec.current_a;
  const auto& V = rec.voltage_v;
  auto t_s = [&](std::size_t i) { return static_cast<double>(rec.t_ns[i] - rec.t_ns[0]) * kSecondsPerNs; };
  auto is_rest = [&](std::size_t i) { return std::abs(I[i]) <= rest_thr; };

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

    GittPulse p;
    p.index = result.pulses.size();
    p.begin = i;
    p.end = j;
    p.rest_end = r;
    p.t_start_ns = rec.t_ns[i];
    p.t_end_ns = rec.t_ns[j - 1];
    p.t_start_s = t_s(i);
    p.t_end_s = t_s(j - 1);
    p.tau_s = p.t_end_s - p.t_start_s;
    p.current_a = median(std::vector<double>(I.begin() + static_cast<std::ptrdiff_t>(i),
                                             I.begin() + static_cast<std::ptrdiff_t>(j)));
    double q_c = 0;
    for (std::size_t k = i + 1; k < j; ++k) q_c += 0.5 * (I[k] + I[k - 1]) * (t_s(k) - t_s(k - 1));
    p.capacity_mah = std::abs(q_c) / kCoulombPerMah;

    const bool rest_before = i > 0 && is_rest(i - 1);
    const bool rest_after = r > j;
    p.voltage_relaxed_before_v = rest_before ? V[i - 1] : kNaN;
    p.voltage_relaxed_v = rest_after ? V[r - 1] : kNaN;
    p.ir_drop_v = V[i] - p.voltage_relaxed_before_v;
    p.dEs_v = p.voltage_relaxed_v - p.voltage_relaxed_before_v;
    p.dEt_v = j - i >= 2 ? V[j - 1] - V[i] : kNaN;
    if (!rest_before) p.flags.emplace_back("no_rest_before");
    if (!rest_after) p.flags.emplace_back("no_rest_after");
    if (j - i < 3) p.flags.emplace_back("too_few_rows");

    // End of the rest after the pulse: slope (is it relaxed?) and scatter (noise) of a line over its
    // last part, where a relaxed rest is flat and anything left is noise.
    p.rest_dvdt_v_per_s = kNaN;
    p.rest_noise_v = kNaN;
    if (r - j >= 3) {
      const double t_cut = t_s(r - 1) - opt.relaxed_window_fraction * (t_s(r - 1) - t_s(j));
      std::size_t w = r - 1;
      while (w > j && (t_s(w - 1) >= t_cut || r - w < 5)) --w;
      std::vector<double> x, y;
      for (std::size_t k = w; k < r; ++k) {
        x.push_back(t_s(k) - t_s(w));
        y.push_back(V[k]);
      }
      const Line line = fit_line(x, y);
      p.rest_dvdt_v_per_s = line.slope;
      p.rest_noise_v = line.residual_sd;
    }
    if (rest_after && !(std::abs(p.rest_dvdt_v_per_s) <= opt.relaxed_dvdt_v_per_s)) {
      p.flags.emplace_back("rest_not_relaxed");
    }
    if (std::abs(p.dEs_v) < opt.noise_factor * p.rest_noise_v) p.flags.emplace_back("dEs_below_noise");
    const double sign = positive ? 1.0 : -1.0;
    if (std::isfinite(p.dEt_v) && sign * p.dEt_v <= 0) p.flags.emplace_back("dEt_not_positive");
    if (std::abs(p.dEs_v / p.dEt_v) < opt.plateau_ratio) p.flags.emplace_back("plateau");

    // Weppner-Huggins, dE form and sqrt(t) form (see gitt.h).
    p.D_wh_cm2_s = p.tau_s > 0 ? 4 / (std::numbers::pi * p.tau_s) * L * L * std::pow(p.dEs_v / p.dEt_v, 2) : kNaN;
    p.sqrt_slope_v_per_sqrt_s = kNaN;
    p.D_sqrt_cm2_s = kNaN;
    if (j - i >= 3) {
      std::vector<double> x, y;
      for (std::size_t k = i + 1; k < j; ++k) {
        x.push_back(std::sqrt(t_s(k) - t_s(i)));
        y.push_back(V[k]);
      }
      p.sqrt_slope_v_per_sqrt_s = fit_line(x, y).slope;
      p.D_sqrt_cm2_s = 4 / std::numbers::pi * std::pow(L * p.dEs_v / (p.tau_s * p.sqrt_slope_v_per_sqrt_s), 2);
    }

    // Full spherical solution over the pulse and the rest after it.
    p.D_fit_cm2_s = kNaN;
    if (opt.fit && j - i >= 3 && p.tau_s > 0) {
      std::vector<FitGroup> groups(rest_after ? 2 : 1);
      for (std::size_t k = i; k < j; ++k) {
        groups[0].t_rel_s.push_back(t_s(k) - t_s(i));
        groups[0].voltage_v.push_back(V[k]);
      }
      if (rest_after) {
        groups[1].rest = true;
        for (std::size_t k = j; k < r; ++k) {
          groups[1].t_rel_s.push_back(t_s(k) - t_s(i));
          groups[1].voltage_v.push_back(V[k]);
        }
      }
      const double th_tau = fit_th_tau(groups, p.tau_s);
      if (std::isfinite(th_tau)) {
        p.D_fit_cm2_s = th_tau * m.fit_radius_cm * m.fit_radius_cm / p.tau_s;
      } else {
        p.flags.emplace_back("fit_at_bound");
      }
    }
    const double d_check = std::isfinite(p.D_fit_cm2_s) ? p.D_fit_cm2_s : p.D_wh_cm2_s;
    if (p.tau_s * d_check / (L * L) > opt.tau_short_max) p.flags.emplace_back("tau_not_short");

    p.valid = p.flags.empty();
    result.pulses.push_back(std::move(p));
    i = j;
  }
  if (result.pulses.empty()) {
    throw InputError(fmt::format("GITT: no pulses found (no rows with |I| >= {} A)", thr));
  }
  return result;
}

}  // namespace opsync::correlate
