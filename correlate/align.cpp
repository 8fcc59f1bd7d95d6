// Strain turnover by hinge regression with a profile-likelihood interval, and the strain-rate vs
// gas lag by FFT cross-correlation (see align.h for the method and why).
#include "correlate/align.h"

#include <algorithm>
#include <array>
#include <utility>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "correlate/errors.h"
#include "correlate/smoothing.h"

namespace opsync::correlate {
namespace {

double seconds_between(int64_t a_ns, int64_t b_ns) { return static_cast<double>(b_ns - a_ns) * kSecondsPerNs; }

void check_times(std::span<const int64_t> t_ns, std::span<const double> v, const char* what) {
  if (t_ns.size() != v.size()) throw InputError(fmt::format("{}: times and values differ in length", what));
  for (std::size_t i = 0; i < t_ns.size(); ++i) {
    if (!std::isfinite(v[i])) throw InputError(fmt::format("{}: value {} is not finite (NaN or inf)", what, i));
    if (i > 0 && t_ns[i] <= t_ns[i - 1]) {
      throw InputError(fmt::format("{}: times must increase (row {} is not after row {})", what, i, i - 1));
    }
  }
}

// Linear interpolation of a time series; at_ns must lie inside it.
double interpolate(std::span<const int64_t> t_ns, std::span<const double> v, int64_t at_ns) {
  auto it = std::upper_bound(t_ns.begin(), t_ns.end(), at_ns);
  std::size_t j = std::clamp<std::size_t>(static_cast<std::size_t>(it - t_ns.begin()), 1, t_ns.size() - 1);
  const double w = seconds_between(t_ns[j - 1], at_ns) / seconds_between(t_ns[j - 1], t_ns[j]);
  return v[j - 1] + w * (v[j] - v[j - 1]);
}

// Least-squares fit of two polynomial segments of degree `order` (1 or 2) joined continuously at a
// fixed breakpoint: y = a + sum_p b_p min(d,0)^p + c_p max(d,0)^p, d = t - tb. Linear in the
// coefficients, so each breakpoint is one small normal-equation solve.
struct SegmentFit {
  std::array<double, 5> coef{};  // a, then (b_1, c_1), (b_2, c_2)
  double sse = std::numeric_limits<double>::infinity();
  double slope_before() const { return coef[1]; }
  double slope_after() const { return coef[2]; }
};

std::size_t parameter_count(int order) { return 1 + 2 * static_cast<std::size_t>(order); }

void basis(double d, int order, std::array<double, 5>& x) {
  x[0] = 1.0;
  const double dm = std::min(d, 0.0), dp = std::max(d, 0.0);
  double pm = 1, pp = 1;
  for (int p = 1; p <= order; ++p) {
    pm *= dm;
    pp *= dp;
    x[static_cast<std::size_t>(2 * p - 1)] = pm;
    x[static_cast<std::size_t>(2 * p)] = pp;
  }
}

SegmentFit fit_segments(std::span<const double> t_s, std::span<const double> y, double tb_s, int order) {
  const std::size_t k = parameter_count(order);
  std::array<std::array<double, 6>, 5> m{};  // augmented normal equations
  std::array<double, 5> x{};
  for (std::size_t i = 0; i < t_s.size(); ++i) {
    basis(t_s[i] - tb_s, order, x);
    for (std::size_t p = 0; p < k; ++p) {
      m[p][k] += x[p] * y[i];
      for (std::size_t q = 0; q < k; ++q) m[p][q] += x[p] * x[q];
    }
  }
  // Gaussian elimination with partial pivoting (k <= 5).
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::abs(m[r][c]) > std::abs(m[piv][c])) piv = r;
    if (!(std::abs(m[piv][c]) > 0)) return {};
    std::swap(m[c], m[piv]);
    for (std::size_t r = c + 1; r < k; ++r) {
      const double f = m[r][c] / m[c][c];
      for (std::size_t q = c; q <= k; ++q) m[r][q] -= f * m[c][q];
    }
  }
  SegmentFit f;
  for (std::size_t c = k; c-- > 0;) {
    double acc = m[c][k];
    for (std::size_t q = c + 1; q < k; ++q) acc -= m[c][q] * f.coef[q];
    f.coef[c] = acc / m[c][c];
  }
  f.sse = 0;
  for (std::size_t i = 0; i < t_s.size(); ++i) {
    basis(t_s[i] - tb_s, order, x);
    double model = 0;
    for (std::size_t p = 0; p < k; ++p) model += f.coef[p] * x[p];
    f.sse += (y[i] - model) * (y[i] - model);
  }
  return f;
}

}  // namespace

Turnover strain_turnover(std::span<const int64_t> mid_t_ns, std::span<const double> value,
                         std::span<const int64_t> cycler_t_ns, std::span<const double> voltage_v,
                         const TurnoverOptions& opt) {
  check_times(mid_t_ns, value, "strain turnover (scans)");
  check_times(cycler_t_ns, voltage_v, "strain turnover (cycler voltage)");
  if (mid_t_ns.size() < 5) {
    throw InputError(fmt::format("strain turnover needs at least 5 scans with a value, the session has {}",
                                 mid_t_ns.size()));
  }
  if (cycler_t_ns.size() < 2) throw InputError("strain turnover: the cycler record has fewer than 2 rows");
  if (opt.half_window_scans < 2) throw InputError("strain turnover: the fit window needs at least 2 scans per side");

  const double sign = opt.extremum == Extremum::max ? 1.0 : -1.0;
  std::size_t m = 0;
  for (std::size_t i = 1; i < value.size(); ++i)
    if (sign * value[i] > sign * value[m]) m = i;
  const char* which = opt.extremum == Extremum::max ? "highest" : "lowest";
  if (m == 0 || m + 1 == value.size()) {
    throw InputError(fmt::format(
        "strain turnover: the {} strain is at the {} scan, so the strain does not turn over within the scans "
        "(try the other --extremum, or a session that covers the turnover)",
        which, m == 0 ? "first" : "last"));
  }

  const std::size_t lo = m >= opt.half_window_scans ? m - opt.half_window_scans : 0;
  const std::size_t hi = std::min(value.size() - 1, m + opt.half_window_scans);
  const std::size_t n = hi - lo + 1;
  if (opt.segment_order != 1 && opt.segment_order != 2) throw InputError("strain turnover: segment order must be 1 or 2");
  const std::size_t min_n = parameter_count(opt.segment_order) + 2;
  if (n < min_n) {
    throw InputError(fmt::format("strain turnover: {} scans around the extreme, the fit needs at least {}", n, min_n));
  }
  Turnover out;
  out.n_scans = n;
  out.extreme_scan = m;
  if (m - lo < 2 || hi - m < 2) out.note = fmt::format("the {} scan is near an end of the record; the fit is one-sided", which);

  const int64_t t0_ns = mid_t_ns[lo];
  std::vector<double> t_s(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    t_s[i] = seconds_between(t0_ns, mid_t_ns[lo + i]);
    y[i] = value[lo + i];
  }

  // Breakpoint candidates between the second and second-to-last scans (two points per segment).
  // Breakpoint candidates leave order+1 scans on each side, enough to fix each segment.
  const auto edge = static_cast<std::size_t>(opt.segment_order);
  const double a_s = t_s[edge], b_s = t_s[n - 1 - edge];
  const std::size_t g = std::max<std::size_t>(opt.grid_points, 16);
  std::vector<double> grid(g), sse(g);
  std::size_t best = 0;
  for (std::size_t k = 0; k < g; ++k) {
    grid[k] = a_s + (b_s - a_s) * static_cast<double>(k) / static_cast<double>(g - 1);
    sse[k] = fit_segments(t_s, y, grid[k], opt.segment_order).sse;
    if (sse[k] < sse[best]) best = k;
  }
  // Golden-section refinement inside the best grid cell's neighbours.
  double l = grid[best > 0 ? best - 1 : 0], r = grid[std::min(best + 1, g - 1)];
  constexpr double kInvPhi = 0.6180339887498949;
  for (int it = 0; it < 60 && r - l > 1e-6; ++it) {
    const double c = r - kInvPhi * (r - l), d = l + kInvPhi * (r - l);
    if (fit_segments(t_s, y, c, opt.segment_order).sse <= fit_segments(t_s, y, d, opt.segment_order).sse) {
      r = d;
    } else {
      l = c;
    }
  }
  const double tb_s = 0.5 * (l + r);
  const SegmentFit fit = fit_segments(t_s, y, tb_s, opt.segment_order);
  const double sse_min = std::min(fit.sse, sse[best]);
  // Degrees of freedom: n minus the segment coefficients and the breakpoint.
  const double sigma2 = sse_min / static_cast<double>(n - parameter_count(opt.segment_order) - 1);

  // Profile interval: walk out from the minimum until SSE exceeds SSE_min + sigma^2.
  const double level = sse_min + sigma2;
  auto crossing = [&](std::size_t from, int dir) {
    std::size_t k = from;
    while (true) {
      const bool at_end = dir < 0 ? k == 0 : k + 1 == g;
      if (at_end) return grid[k];
      const std::size_t next = dir < 0 ? k - 1 : k + 1;
      if (sse[next] > level) {
        const double f = (level - sse[k]) / (sse[next] - sse[k]);
        return grid[k] + std::clamp(f, 0.0, 1.0) * (grid[next] - grid[k]);
      }
      k = next;
    }
  };
  const double lo_s = std::min(crossing(best, -1), tb_s), hi_s = std::max(crossing(best, +1), tb_s);

  auto to_ns = [&](double s) { return t0_ns + static_cast<int64_t>(std::llround(s * 1e9)); };
  out.t_ns = to_ns(tb_s);
  out.t_lo_ns = to_ns(lo_s);
  out.t_hi_ns = to_ns(hi_s);
  if (out.t_lo_ns < cycler_t_ns.front() || out.t_hi_ns > cycler_t_ns.back()) {
    throw InputError("strain turnover: the scans around the turnover lie outside the cycler record's time span "
                     "(check the clock offsets of the imported files)");
  }
  out.voltage_v = interpolate(cycler_t_ns, voltage_v, out.t_ns);
  out.uncertainty_v = std::max(std::abs(interpolate(cycler_t_ns, voltage_v, out.t_hi_ns) - out.voltage_v),
                               std::abs(out.voltage_v - interpolate(cycler_t_ns, voltage_v, out.t_lo_ns)));
  out.value_at_turnover = fit.coef[0];
  out.slope_before_per_s = fit.slope_before();
  out.slope_after_per_s = fit.slope_after();
  out.residual_rms = std::sqrt(sse_min / static_cast<double>(n));
  if (sign * fit.slope_before() <= 0 || sign * fit.slope_after() >= 0) {
    if (!out.note.empty()) out.note += "; ";
    out.note += "the fitted segments do not rise then fall (no clear turnover)";
  }
  return out;
}

std::vector<double> cross_correlate_fft(std::span<const double> x, std::span<const double> y) {
  // c[k] = sum_i x[i] y[i+k] is the linear convolution of reversed x with y, shifted by |x|-1.
  std::vector<double> xr(x.rbegin(), x.rend());
  return convolve_linear_fft(xr, y);
}

LagResult strain_gas_lag(std::span<const int64_t> mid_t_ns, std::span<const double> value,
                         std::span<const int64_t> gas_t_ns, std::span<const double> gas_value, const LagOptions& opt,
                         Extremum extremum) {
  check_times(mid_t_ns, value, "strain-gas lag (scans)");
  check_times(gas_t_ns, gas_value, "strain-gas lag (gas)");
  if (mid_t_ns.size() < 3) throw InputError("strain-gas lag needs at least 3 scans with a value");
  if (gas_t_ns.size() < 8) throw InputError("strain-gas lag needs at least 8 gas samples");

  // Relaxation rate between consecutive scans, at the midpoint between them.
  const double sign = extremum == Extremum::max ? -1.0 : 1.0;
  std::vector<int64_t> rate_t_ns(mid_t_ns.size() - 1);
  std::vector<double> rate(mid_t_ns.size() - 1);
  std::vector<double> spacing_s(rate.size());
  for (std::size_t i = 0; i + 1 < mid_t_ns.size(); ++i) {
    const double dt_s = seconds_between(mid_t_ns[i], mid_t_ns[i + 1]);
    rate_t_ns[i] = mid_t_ns[i] + (mid_t_ns[i + 1] - mid_t_ns[i]) / 2;
    rate[i] = sign * (value[i + 1] - value[i]) / dt_s;
    spacing_s[i] = dt_s;
  }
  std::nth_element(spacing_s.begin(), spacing_s.begin() + static_cast<std::ptrdiff_t>(spacing_s.size() / 2),
                   spacing_s.end());
  const double dt_s = opt.grid_dt_s > 0 ? opt.grid_dt_s : spacing_s[spacing_s.size() / 2] / 4;
  if (!(dt_s > 0) || !std::isfinite(opt.max_lag_s) || opt.max_lag_s <= 0) {
    throw InputError("strain-gas lag: the grid step and the maximum lag must be positive");
  }

  // The gas as it left the cell: transport delay removed.
  const int64_t lag_ns = static_cast<int64_t>(std::llround(opt.transport_delay_s * 1e9));
  const int64_t begin_ns = std::max(rate_t_ns.front(), gas_t_ns.front() - lag_ns);
  const int64_t end_ns = std::min(rate_t_ns.back(), gas_t_ns.back() - lag_ns);
  const double span_s = seconds_between(begin_ns, end_ns);
  if (!(span_s >= 8 * dt_s)) {
    throw InputError(fmt::format("strain-gas lag: the scans and the gas record overlap by {:.0f} s, less than 8 grid "
                                 "steps of {:.1f} s",
                                 std::max(span_s, 0.0), dt_s));
  }
  const auto n = static_cast<std::size_t>(span_s / dt_s) + 1;
  std::vector<double> x(n), y(n);
  std::size_t j = 0;  // sweep over gas samples
  for (std::size_t k = 0; k < n; ++k) {
    const int64_t at_ns = begin_ns + static_cast<int64_t>(std::llround(static_cast<double>(k) * dt_s * 1e9));
    x[k] = interpolate(rate_t_ns, rate, std::clamp(at_ns, rate_t_ns.front(), rate_t_ns.back()));
    // Gas: mean of the samples within half a step, else interpolated (sparser than the grid).
    const int64_t half_ns = static_cast<int64_t>(dt_s * 0.5e9);
    const int64_t lo_ns = at_ns + lag_ns - half_ns, hi_ns = at_ns + lag_ns + half_ns;
    while (j < gas_t_ns.size() && gas_t_ns[j] < lo_ns) ++j;
    double sum = 0;
    std::size_t cnt = 0;
    for (std::size_t q = j; q < gas_t_ns.size() && gas_t_ns[q] < hi_ns; ++q) {
      sum += gas_value[q];
      ++cnt;
    }
    y[k] = cnt > 0 ? sum / static_cast<double>(cnt)
                   : interpolate(gas_t_ns, gas_value, std::clamp(at_ns + lag_ns, gas_t_ns.front(), gas_t_ns.back()));
  }
  auto standardise = [](std::vector<double>& v) {
    double mean = 0;
    for (double a : v) mean += a;
    mean /= static_cast<double>(v.size());
    double var = 0;
    for (double& a : v) {
      a -= mean;
      var += a * a;
    }
    const double sd = std::sqrt(var / static_cast<double>(v.size()));
    if (!(sd > 0)) return false;
    for (double& a : v) a /= sd;
    return true;
  };
  if (!standardise(x)) throw InputError("strain-gas lag: the strain does not change over the gas record");
  if (!standardise(y)) throw InputError("strain-gas lag: the gas signal is constant over the scans");

  const std::vector<double> c = cross_correlate_fft(x, y);
  const auto zero = static_cast<std::ptrdiff_t>(n - 1);  // index of k = 0
  const auto k_max = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(opt.max_lag_s / dt_s),
                                              static_cast<std::ptrdiff_t>(n) - 2);
  std::ptrdiff_t best = zero;
  for (std::ptrdiff_t k = -k_max; k <= k_max; ++k)
    if (c[static_cast<std::size_t>(zero + k)] > c[static_cast<std::size_t>(best)]) best = zero + k;
  double frac = 0;
  if (best > zero - k_max && best < zero + k_max) {
    const double ym = c[static_cast<std::size_t>(best - 1)], y0 = c[static_cast<std::size_t>(best)],
                 yp = c[static_cast<std::size_t>(best + 1)];
    const double den = ym - 2 * y0 + yp;
    if (den < 0) frac = std::clamp(0.5 * (ym - yp) / den, -0.5, 0.5);
  }
  LagResult out;
  out.lag_s = (static_cast<double>(best - zero) + frac) * dt_s;
  out.correlation = c[static_cast<std::size_t>(best)] / static_cast<double>(n);
  out.grid_dt_s = dt_s;
  out.n_grid = n;
  return out;
}

}  // namespace opsync::correlate
