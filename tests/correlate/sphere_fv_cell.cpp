// Finite-volume sphere for the GITT tests (see sphere_fv_cell.h).
//
// Shells thin geometrically towards the surface (outermost 1e-5 of the radius), so the skin that a
// short pulse disturbs (sqrt(D t) ~ 0.07 r at tau D/r^2 = 0.005) spans dozens of shells, and the
// outermost shell's mean stands for the surface composition to ~10 uV. Time: implicit Euler
// (L-stable, so the thin shells cannot ring), the diffusion coefficient of each face taken from the
// compositions at the start of the step; steps start at 0.1 ms after every current change and grow
// with the time since it (h <= 1 % of it), so the sqrt(t) start of each transient is resolved.
#include "sphere_fv_cell.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace opsync::correlate::testing {

namespace {

constexpr int kShells = 120;
constexpr double kOuterWidth = 1e-5;  // of the radius

double logistic(double z) { return 1.0 / (1.0 + std::exp(-z)); }
double softplus(double z) { return z > 40 ? z : std::log1p(std::exp(z)); }

class Sphere {
 public:
  explicit Sphere(double x0) {
    // Widths w, w q, w q^2, ... from the surface inwards, summing to 1: q by bisection.
    double lo = 1.0, hi = 2.0;
    for (int it = 0; it < 200; ++it) {
      const double q = 0.5 * (lo + hi);
      const double sum = kOuterWidth * (std::pow(q, kShells) - 1) / (q - 1);
      (sum > 1 ? hi : lo) = q;
    }
    const double q = 0.5 * (lo + hi);
    std::vector<double> width(kShells);
    for (int k = 0; k < kShells; ++k) width[kShells - 1 - k] = kOuterWidth * std::pow(q, k);
    edge_.assign(kShells + 1, 0.0);
    for (int i = 0; i < kShells; ++i) edge_[i + 1] = edge_[i] + width[i];
    edge_[kShells] = 1.0;  // absorb rounding
    volume_.resize(kShells);
    for (int i = 0; i < kShells; ++i) volume_[i] = (std::pow(edge_[i + 1], 3) - std::pow(edge_[i], 3)) / 3;
    gap_.resize(kShells - 1);
    for (int i = 0; i + 1 < kShells; ++i) gap_[i] = 0.5 * (width[i] + width[i + 1]);
    x_.assign(kShells, x0);
  }

  // One implicit step of h_s with the average composition rising at rate_per_s (the current over
  // the capacity); D in units of the radius squared per second, from the compositions now.
  void step(const FvCell& cell, double h_s, double rate_per_s) {
    const double r2 = cell.radius_cm * cell.radius_cm;
    std::vector<double> lower(kShells), diag(kShells), upper(kShells), rhs(kShells);
    std::vector<double> face(kShells - 1);
    for (int i = 0; i + 1 < kShells; ++i) {
      const double d = cell.d_cm2_s(0.5 * (x_[i] + x_[i + 1])) / r2;
      face[i] = d * edge_[i + 1] * edge_[i + 1] / gap_[i];
    }
    for (int i = 0; i < kShells; ++i) {
      const double in = i > 0 ? face[i - 1] : 0.0, out = i + 1 < kShells ? face[i] : 0.0;
      lower[i] = -h_s * in;
      upper[i] = -h_s * out;
      diag[i] = volume_[i] + h_s * (in + out);
      rhs[i] = volume_[i] * x_[i];
    }
    rhs[kShells - 1] += h_s * rate_per_s / 3;  // through the surface; the sphere's volume is 1/3
    for (int i = 1; i < kShells; ++i) {
      const double m = lower[i] / diag[i - 1];
      diag[i] -= m * upper[i - 1];
      rhs[i] -= m * rhs[i - 1];
    }
    x_[kShells - 1] = rhs[kShells - 1] / diag[kShells - 1];
    for (int i = kShells - 2; i >= 0; --i) x_[i] = (rhs[i] - upper[i] * x_[i + 1]) / diag[i];
  }

  double surface() const { return x_[kShells - 1]; }
  double average() const {
    double s = 0;
    for (int i = 0; i < kShells; ++i) s += volume_[i] * x_[i];
    return 3 * s;
  }

 private:
  std::vector<double> edge_, volume_, gap_, x_;
};

// Advances the sphere from t to t_to (seconds since the last current change at t_change).
void advance(Sphere& s, const FvCell& cell, double& t, double t_to, double t_change, double rate_per_s,
             double h_max_s, double& x_surface_extreme, double sign) {
  while (t < t_to - 1e-12) {
    const double h = std::min({t_to - t, 1e-4 + 0.01 * (t - t_change), h_max_s});
    s.step(cell, h, rate_per_s);
    t += h;
    x_surface_extreme = sign > 0 ? std::max(x_surface_extreme, s.surface()) : std::min(x_surface_extreme, s.surface());
  }
  t = t_to;
}

}  // namespace

double FvCell::d_cm2_s(double x) const {
  const double f = logistic((x - boundary_x) / boundary_width_x);
  return std::exp(std::log(d1_cm2_s) + f * (std::log(d2_cm2_s) - std::log(d1_cm2_s)));
}

double FvCell::ocv_v(double x) const {
  // Stage 1 slope and curvature up to the boundary, fading out over its width (a smooth min(x, b)),
  // stage 2's own slope and curvature past it (a smooth max(x - b, 0)).
  const double w = boundary_width_x;
  const double below = x - w * softplus((x - boundary_x) / w) + w * softplus(-boundary_x / w);
  const double above = w * softplus((x - boundary_x) / w) - w * softplus(-boundary_x / w);
  return ocv0_v + slope1_v * below + 0.5 * curvature1_v * below * below + slope2_v * above +
         0.5 * curvature2_v * above * above;
}

double FvCell::docv_dx_v(double x) const {
  const double h = 1e-6;
  return (ocv_v(x + h) - ocv_v(x - h)) / (2 * h);
}

double fv_surface_after_constant_flux(const FvCell& cell, double x0, double current_a, double duration_s) {
  Sphere s(x0);
  double t = 0, extreme = x0;
  advance(s, cell, t, duration_s, 0, current_a / cell.capacity_c, duration_s, extreme, current_a);
  return s.surface();
}

FvRun simulate_fv_gitt(const FvCell& cell, const FvProtocol& p) {
  FvRun run;
  Sphere s(p.x_start);
  std::mt19937_64 rng(p.seed);
  std::normal_distribution<double> normal(0, 1);
  const double rate = p.current_a / cell.capacity_c;
  auto log_row = [&](double t, double current_a) {
    double v = cell.ocv_v(s.surface()) + current_a * cell.resistance_ohm;
    if (p.noise_v > 0) v += p.noise_v * normal(rng);
    if (p.quantum_v > 0) v = p.quantum_v * std::round(v / p.quantum_v);
    run.rec.t_ns.push_back(1'800'000'000'000'000'000LL + std::llround(t * 1e9));
    run.rec.voltage_v.push_back(v);
    run.rec.current_a.push_back(current_a);
    run.rec.capacity_c.push_back((s.average() - p.x_start) * cell.capacity_c);
  };
  double t = 0, extreme = 0;
  // Initial open circuit.
  const int n_initial = static_cast<int>(std::lround(p.initial_rest_s / p.rest_dt_s));
  for (int k = 0; k < n_initial; ++k) log_row(k * p.rest_dt_s, 0);
  t = n_initial * p.rest_dt_s;
  const double sign = p.current_a > 0 ? 1.0 : -1.0;
  for (int n = 0; n < p.pulses; ++n) {
    FvPulseTruth truth;
    truth.x_before = s.average();
    extreme = s.surface();
    const double t_on = t;
    truth.begin = run.rec.t_ns.size();
    log_row(t, p.current_a);  // the ohmic step, no diffusion yet
    const int n_pulse = static_cast<int>(std::lround(p.pulse_s / p.pulse_dt_s));
    for (int k = 1; k <= n_pulse; ++k) {
      advance(s, cell, t, t_on + k * p.pulse_dt_s, t_on, rate, p.pulse_dt_s / 2, extreme, sign);
      log_row(t, p.current_a);
    }
    truth.end = run.rec.t_ns.size();
    truth.x_after = s.average();
    truth.x_surface_max = extreme;
    const double t_off = t;
    const int n_rest = static_cast<int>(std::lround(p.rest_s / p.rest_dt_s));
    // The rest's rows; its end is the next pulse's first row (one row per instant, as in a file).
    for (int k = 1; k <= n_rest; ++k) {
      advance(s, cell, t, t_off + k * p.rest_dt_s, t_off, 0, std::min(5.0, p.rest_dt_s / 2), extreme, sign);
      if (k < n_rest) log_row(t, 0);
    }
    const double x_mid = 0.5 * (truth.x_before + truth.x_after);
    truth.d_mid_cm2_s = cell.d_cm2_s(x_mid);
    double d_lo = truth.d_mid_cm2_s, d_hi = truth.d_mid_cm2_s;
    for (int k = 0; k <= 50; ++k) {
      const double x = truth.x_before + (truth.x_surface_max - truth.x_before) * k / 50.0;
      d_lo = std::min(d_lo, cell.d_cm2_s(x));
      d_hi = std::max(d_hi, cell.d_cm2_s(x));
    }
    truth.d_spread = d_hi / d_lo - 1;
    truth.ocv_slope_v = cell.docv_dx_v(x_mid);
    run.pulses.push_back(truth);
  }
  return run;
}

}  // namespace opsync::correlate::testing
