// Spherical-diffusion fit for GITT (gitt_fit.h); the model and its references are in gitt.h.
#include "correlate/gitt_fit.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>

#include "correlate/gitt.h"

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

// A step whose transient has died out over the whole fit window (exp(-a_1^2 th) < 1e-10 with
// a_1^2 = 20.19) only adds a constant, which the offsets absorb.
constexpr double kRelaxedTheta = 1.15;

// Surface response at time t (s since the fitted pulse's start) to the fitted pulse and the
// history, at theta_per_s = D / a^2.
struct Model {
  const SphereFitInput& in;
  double theta_per_s;
  double t_min_s;
  std::size_t max_history;  // the most recent ones (history is newest first)

  double step(double t_s, double on_s, double off_s) const {
    return sphere_surface_response(theta_per_s * (t_s - on_s)) - sphere_surface_response(theta_per_s * (t_s - off_s));
  }
  double at(double t_s) const {
    double g = step(t_s, 0, in.tau_s);
    for (std::size_t k = 0; k < in.history.size() && k < max_history; ++k) {
      const FitStep& h = in.history[k];
      if (theta_per_s * (t_min_s - h.t_off_s) > kRelaxedTheta) continue;
      g += h.weight * step(t_s, h.t_on_s, h.t_off_s);
    }
    return g;
  }
};

// Residual sum of squares of the best (a0, a1, k, q) at th_tau, for E = a + k G + q G^2 (q = 0 when
// the OCV is taken as linear): with one free offset per group (rest rows, pulse rows) the offsets
// go by centring each group, leaving the normal equations of (k, q).
double fit_sse(const SphereFitInput& in, double th_tau, std::size_t max_history) {
  double t_min = 0;
  for (const double t : in.rest_t_s) t_min = std::min(t_min, t);
  const Model model{in, th_tau / in.tau_s, t_min, max_history};
  double s11 = 0, s12 = 0, s22 = 0, s1e = 0, s2e = 0, see = 0;
  std::vector<double> g;
  auto add_group = [&](const std::vector<double>& t, const std::vector<double>& v) {
    const std::size_t n = t.size();
    if (n == 0) return;
    g.resize(n);
    double mg = 0, mh = 0, me = 0;
    for (std::size_t i = 0; i < n; ++i) {
      g[i] = model.at(t[i]);
      mg += g[i];
      mh += g[i] * g[i];
      me += v[i];
    }
    mg /= static_cast<double>(n);
    mh /= static_cast<double>(n);
    me /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double dg = g[i] - mg, dh = g[i] * g[i] - mh, de = v[i] - me;
      s11 += dg * dg;
      s12 += dg * dh;
      s22 += dh * dh;
      s1e += dg * de;
      s2e += dh * de;
      see += de * de;
    }
  };
  add_group(in.pulse_t_s, in.pulse_v);
  add_group(in.rest_t_s, in.rest_v);
  if (s11 <= 0) return see;
  const double linear = see - s1e * s1e / s11;
  if (!in.quadratic_ocv) return std::max(0.0, linear);
  const double det = s11 * s22 - s12 * s12;
  if (!(det > 1e-12 * s11 * s22)) return std::max(0.0, linear);  // G^2 no different from G here
  const double k = (s22 * s1e - s12 * s2e) / det, q = (s11 * s2e - s12 * s1e) / det;
  return std::max(0.0, see - k * s1e - q * s2e);
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

// Golden-section minimum of f over [a, b] to 1e-4 in log10 D (2e-4 relative, far inside any sigma).
template <typename F>
double golden(F f, double a, double b) {
  const double invphi = (std::sqrt(5.0) - 1) / 2;
  double c = b - invphi * (b - a), d = a + invphi * (b - a);
  double fc = f(c), fd = f(d);
  while (b - a > 1e-4) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - invphi * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + invphi * (b - a);
      fd = f(d);
    }
  }
  return 0.5 * (a + b);
}

// Best th_tau over 1e-4..1e2: a coarse scan in log10 first (the sum of squares over so wide a range
// need not be unimodal), then golden section around the best grid point. NaN when the best point
// is on the edge of the scan (the data do not determine D inside the range). The scan superposes
// only the most recent earlier pulse: at the small trial D's of its low end every earlier
// pulse still relaxes, and the full history there cost 5x the whole fit, only to rank bad
// candidates. The golden section uses all of it (pruned by D: relaxed pulses add a constant), and
// its bracket moves if the full model puts the minimum at its edge.
SphereFit fit_sphere(const SphereFitInput& in) {
  SphereFit out{kNaN, kNaN, kNaN};
  const std::size_t n = in.pulse_t_s.size() + in.rest_t_s.size();
  if (in.tau_s <= 0 || in.pulse_t_s.size() < 3 || n < 6) return out;
  constexpr std::size_t kScanHistory = 1;
  auto scan_sse = [&](double u) { return fit_sse(in, std::pow(10.0, u), kScanHistory); };
  auto sse_at = [&](double u) { return fit_sse(in, std::pow(10.0, u), in.history.size()); };
  constexpr double kLo = -4, kHi = 2, kStep = 0.2;
  const int steps = static_cast<int>(std::lround((kHi - kLo) / kStep));
  int best = 0;
  double best_sse = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= steps; ++i) {
    const double sse = scan_sse(kLo + kStep * i);
    if (sse < best_sse) {
      best_sse = sse;
      best = i;
    }
  }
  if (best == 0 || best == steps) return out;
  double a = kLo + kStep * (best - 1), b = kLo + kStep * (best + 1);
  double u = golden(sse_at, a, b);
  for (int move = 0; move < 10 && (u - a < 1e-3 || b - u < 1e-3); ++move) {
    a = u - kStep;
    b = u + kStep;
    if (a <= kLo || b >= kHi) return out;
    u = golden(sse_at, a, b);
  }
  out.th_tau = std::pow(10.0, u);
  // Uncertainty: var(u) = 2 s^2 / (d^2 SSE/du^2) on the profile (the linear parameters eliminated),
  // with s^2 = SSE / (n - parameters); D = 10^u a^2 / tau, so sigma_D / D = ln(10) sigma_u.
  const double h = 0.01;
  const double s0 = sse_at(u), curvature = (sse_at(u + h) - 2 * s0 + sse_at(u - h)) / (h * h);
  out.rms_v = std::sqrt(s0 / static_cast<double>(n));
  const double s2 = s0 / static_cast<double>(n - (in.quadratic_ocv ? 5 : 4));
  out.rel_sigma = curvature > 0 ? std::numbers::ln10 * std::sqrt(2 * s2 / curvature) : kNaN;
  return out;
}

}  // namespace opsync::correlate
