// Gas onset detection; see onset.h for the three methods and their references.
#include "correlate/onset.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "correlate/errors.h"

namespace opsync::correlate {
namespace {

double median_of(std::vector<double> v) {
  const std::size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
  const double hi = v[m];
  if (v.size() % 2 == 1) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m));
  return 0.5 * (lo + hi);
}

void check_series(std::span<const int64_t> t_ns, std::span<const double> value, std::size_t min_points,
                  const char* what) {
  if (t_ns.size() != value.size()) {
    throw InputError(fmt::format("{}: time has {} samples, values {}", what, t_ns.size(), value.size()));
  }
  if (t_ns.size() < min_points) {
    throw InputError(fmt::format("{}: {} samples, need at least {}", what, t_ns.size(), min_points));
  }
  for (std::size_t i = 0; i < t_ns.size(); ++i) {
    if (i > 0 && t_ns[i] <= t_ns[i - 1]) throw InputError(fmt::format("{}: time does not increase at sample {}", what, i));
    if (!std::isfinite(value[i])) throw InputError(fmt::format("{}: non-finite value at sample {}", what, i));
  }
}

int64_t to_ns(double s) { return std::llround(s * 1e9); }
double seconds_between(int64_t a_ns, int64_t b_ns) { return static_cast<double>(b_ns - a_ns) * kSecondsPerNs; }

// A line through the rise from row i0 up to the first row whose height above the baseline
// reaches `top`, met with the baseline: x0_s after t[i0], with the first-order propagation of the
// fit (intercept and slope with their covariance, from its residuals) and of the baseline's level
// and slope at the foot.
struct RiseFit {
  bool ok = false;
  double x0_s = 0, sigma_s = 0, slope = 0;
  std::string why;
};

RiseFit fit_rise(std::span<const int64_t> t_ns, std::span<const double> value, const Baseline& base, std::size_t i0,
                 double top) {
  RiseFit out;
  const std::size_t n = t_ns.size();
  std::size_t i1 = i0;
  while (i1 + 1 < n && value[i1] - base.at(t_ns[i1]) < top) ++i1;
  if (i1 - i0 + 1 < 3) {
    out.why = "extrapolated: fewer than 3 samples on the initial rise; raise rise_fraction or sample faster. ";
    return out;
  }
  // Least squares in seconds relative to t[i0] (keeps the numbers small).
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const auto m = static_cast<double>(i1 - i0 + 1);
  for (std::size_t i = i0; i <= i1; ++i) {
    const double x = seconds_between(t_ns[i0], t_ns[i]);
    sx += x;
    sy += value[i];
    sxx += x * x;
    sxy += x * value[i];
  }
  const double den = m * sxx - sx * sx;
  const double slope = den > 0 ? (m * sxy - sx * sy) / den : 0.0;
  // The baseline as a line in the same coordinates: b0 + bs x.
  const double b0 = base.at(t_ns[i0]), bs = base.slope_per_s;
  if (!(slope > bs)) {
    out.why = "extrapolated: the fitted rise is not rising above the baseline. ";
    return out;
  }
  const double intercept = (sy - slope * sx) / m;
  const double x0 = (b0 - intercept) / (slope - bs);
  double sse = 0;
  for (std::size_t i = i0; i <= i1; ++i) {
    const double e = value[i] - (intercept + slope * seconds_between(t_ns[i0], t_ns[i]));
    sse += e * e;
  }
  const double s2 = m > 2 ? sse / (m - 2) : 0.0;
  const double var_s = s2 * m / den, var_a = s2 * sxx / den, cov_as = -s2 * sx / den;
  const double var_b0 = std::pow(base.sigma_at(t_ns[i0]), 2), var_bs = std::pow(base.slope_sigma_per_s, 2);
  const double var_x0 = (var_a + 2 * x0 * cov_as + x0 * x0 * var_s + var_b0 + x0 * x0 * var_bs) / std::pow(slope - bs, 2);
  out.ok = true;
  out.x0_s = x0;
  out.slope = slope;
  out.sigma_s = std::sqrt(std::max(0.0, var_x0));
  return out;
}

}  // namespace

Baseline robust_baseline(std::span<const int64_t> t_ns, std::span<const double> value, int64_t begin_ns,
                         int64_t end_ns, std::size_t min_points, double min_sigma, BaselineModel model) {
  std::vector<double> w;
  std::vector<int64_t> wt;
  for (std::size_t i = 0; i < t_ns.size() && i < value.size(); ++i) {
    if (t_ns[i] >= begin_ns && t_ns[i] < end_ns) {
      w.push_back(value[i]);
      wt.push_back(t_ns[i]);
    }
  }
  if (w.size() < min_points) {
    throw InputError(fmt::format("baseline: the quiet window holds {} samples, need at least {}; choose a "
                                 "window before the gas evolves that lies inside the record",
                                 w.size(), min_points));
  }
  Baseline b;
  b.n = w.size();
  b.t_ref_ns = wt.front() + (wt.back() - wt.front()) / 2;
  if (model == BaselineModel::linear) {
    const std::size_t stride = std::max<std::size_t>(1, w.size() / 600);
    std::vector<double> slopes;
    for (std::size_t i = 0; i < w.size(); i += stride) {
      for (std::size_t j = i + stride; j < w.size(); j += stride) {
        slopes.push_back((w[j] - w[i]) / seconds_between(wt[i], wt[j]));
      }
    }
    b.slope_per_s = slopes.empty() ? 0.0 : median_of(std::move(slopes));
  }
  // Intercept: median of the detrended window, at t_ref.
  std::vector<double> detrended(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) detrended[i] = w[i] - b.slope_per_s * seconds_between(b.t_ref_ns, wt[i]);
  b.median = median_of(detrended);
  w = std::move(detrended);
  for (double& v : w) v = std::abs(v - b.median);
  b.sigma = std::max(1.4826 * median_of(w), min_sigma);  // 1.4826: MAD -> sigma for Gaussian noise
  if (!(b.sigma > 0)) {
    throw InputError("baseline: the quiet window is perfectly flat (MAD = 0), so there is no noise scale; "
                     "set min_sigma to the instrument's noise floor");
  }
  b.median_sigma = 1.2533 * b.sigma / std::sqrt(static_cast<double>(b.n));  // sqrt(pi/2): the median's efficiency
  if (model == BaselineModel::linear) {
    // Over the samples the slope was estimated from (the stride above), with Theil-Sen's
    // efficiency for Gaussian noise (0.91 of least squares' in variance).
    const std::size_t stride = std::max<std::size_t>(1, wt.size() / 600);
    double mean_s = 0, used = 0;
    for (std::size_t i = 0; i < wt.size(); i += stride, ++used) mean_s += seconds_between(b.t_ref_ns, wt[i]);
    mean_s /= used;
    double sxx = 0;
    for (std::size_t i = 0; i < wt.size(); i += stride) sxx += std::pow(seconds_between(b.t_ref_ns, wt[i]) - mean_s, 2);
    b.slope_sigma_per_s = sxx > 0 ? b.sigma / std::sqrt(0.91 * sxx) : 0.0;
  }
  return b;
}

double Baseline::sigma_at(int64_t t_ns) const {
  return std::hypot(median_sigma, slope_sigma_per_s * static_cast<double>(t_ns - t_ref_ns) * 1e-9);
}

OnsetResult detect_onset(std::span<const int64_t> t_ns, std::span<const double> value, const OnsetOptions& opt) {
  check_series(t_ns, value, std::max<std::size_t>(opt.min_points, 3), "onset");
  if (!(opt.k_sigma > 0) || !(opt.hold_s >= 0) || !(opt.rise_fraction > 0 && opt.rise_fraction < 1) ||
      !(opt.cusum_threshold_sigma > 0) || !(opt.plateau_window_s > 0) || !std::isfinite(opt.transport_delay_s)) {
    throw InputError("onset: options out of range (k_sigma > 0, hold_s >= 0, 0 < rise_fraction < 1, "
                     "cusum_threshold_sigma > 0, plateau_window_s > 0, finite transport_delay_s)");
  }
  OnsetResult r;
  if (!(opt.cusum_baseline_guard >= 0)) throw InputError("onset: cusum_baseline_guard must be >= 0");
  r.method = {opt.k_sigma,          opt.hold_s,           opt.cusum_drift_sigma, opt.cusum_threshold_sigma,
              opt.rise_fraction,    opt.plateau_window_s, opt.transport_delay_s, opt.cusum_baseline_guard,
              opt.quiet_begin_ns,   opt.quiet_end_ns,     opt.baseline_model};
  r.threshold_onset_sigma_s = r.cusum_onset_sigma_s = r.extrapolated_onset_sigma_s = std::nan("");
  r.extrapolated_window_spread_s = std::nan("");
  r.baseline = robust_baseline(t_ns, value, opt.quiet_begin_ns, opt.quiet_end_ns, opt.min_points, opt.min_sigma,
                               opt.baseline_model);
  const Baseline& base = r.baseline;
  const double sig = base.sigma;
  const int64_t lag_ns = to_ns(opt.transport_delay_s);
  const std::size_t n = t_ns.size();
  // Onsets are searched after the quiet window only: by assumption nothing evolves inside it.
  const std::size_t start = static_cast<std::size_t>(
      std::lower_bound(t_ns.begin(), t_ns.end(), opt.quiet_end_ns) - t_ns.begin());

  // (a) Threshold held for hold_s.
  std::optional<std::size_t> thr;
  {
    std::optional<std::size_t> run;
    for (std::size_t i = start; i < n && !thr; ++i) {
      if (value[i] > base.at(t_ns[i]) + opt.k_sigma * sig) {
        if (!run) run = i;
        if (seconds_between(t_ns[*run], t_ns[i]) >= opt.hold_s) thr = run;
      } else {
        run.reset();
      }
    }
  }
  if (thr) {
    r.threshold_onset_t_ns = t_ns[*thr] - lag_ns;
  } else {
    r.note += fmt::format("threshold: the signal never stays above baseline + {} sigma for {} s. ", opt.k_sigma, opt.hold_s);
  }

  // (b) One-sided CUSUM on z = (x - median)/sigma; onset = last sample where the sum was zero.
  {
    double s = 0;
    std::size_t last_zero = start;
    for (std::size_t i = start; i < n; ++i) {
      const double allowance = opt.cusum_drift_sigma + opt.cusum_baseline_guard * base.sigma_at(t_ns[i]) / sig;
      s = std::max(0.0, s + (value[i] - base.at(t_ns[i])) / sig - allowance);
      if (s == 0) last_zero = i;
      if (s > opt.cusum_threshold_sigma) {
        r.cusum_onset_t_ns = t_ns[last_zero] - lag_ns;
        r.cusum_alarm_t_ns = t_ns[i] - lag_ns;
        break;
      }
    }
    if (!r.cusum_onset_t_ns) r.note += "cusum: the cumulative sum never reaches its decision level. ";
  }

  // (c) Extrapolated onset: line through the rise from the threshold crossing up to rise_fraction of
  // the later maximum, intersected with the baseline. Its uncertainty: the fit's own, propagated,
  // and the model's: a rise that is not a straight line (a mixing volume bends its foot) moves the
  // intersection with the length of the fitted stretch, so the onset is fitted again up to 2/3 and
  // 4/3 of rise_fraction and their rms distance from it is added in quadrature.
  if (thr) {
    const std::size_t i0 = *thr;
    // Heights above the baseline from here on, so a drifting baseline does not tilt the rise.
    double peak = 0;
    for (std::size_t i = i0; i < n && seconds_between(t_ns[i0], t_ns[i]) <= opt.plateau_window_s; ++i) {
      peak = std::max(peak, value[i] - base.at(t_ns[i]));
    }
    const RiseFit main = fit_rise(t_ns, value, base, i0, opt.rise_fraction * peak);
    if (!main.ok) {
      r.note += main.why;
    } else {
      r.rise_slope_per_s = main.slope;
      r.extrapolated_onset_t_ns = t_ns[i0] + to_ns(main.x0_s) - lag_ns;
      double spread2 = 0;
      int alternates = 0;
      for (const double f : {opt.rise_fraction * 2 / 3, std::min(0.95, opt.rise_fraction * 4 / 3)}) {
        const RiseFit alt = fit_rise(t_ns, value, base, i0, f * peak);
        if (!alt.ok) continue;
        spread2 += std::pow(alt.x0_s - main.x0_s, 2);
        ++alternates;
      }
      r.extrapolated_window_spread_s = alternates > 0 ? std::sqrt(spread2 / alternates) : std::nan("");
      r.extrapolated_onset_sigma_s =
          std::hypot(main.sigma_s, std::isfinite(r.extrapolated_window_spread_s) ? r.extrapolated_window_spread_s : 0.0);
    }
  } else {
    r.note += "extrapolated: needs the threshold onset as the foot of the rise. ";
  }
  // Threshold and CUSUM: the crossing is known to a sampling interval, and noise moves it by about
  // sigma over the rise's slope (when a rise was fitted).
  auto crossing_sigma = [&](std::optional<int64_t> t) {
    if (!t) return std::nan("");
    const int64_t raw = *t + lag_ns;
    const auto it = std::lower_bound(t_ns.begin(), t_ns.end(), raw);
    const std::size_t k = static_cast<std::size_t>(it - t_ns.begin());
    const double dt = k > 0 && k < n ? seconds_between(t_ns[k - 1], t_ns[k]) : k + 1 < n ? seconds_between(t_ns[k], t_ns[k + 1]) : 0.0;
    const double jitter = r.rise_slope_per_s > base.slope_per_s ? sig / (r.rise_slope_per_s - base.slope_per_s) : 0.0;
    return std::sqrt(dt * dt / 12 + jitter * jitter);
  };
  r.threshold_onset_sigma_s = crossing_sigma(r.threshold_onset_t_ns);
  r.cusum_onset_sigma_s = crossing_sigma(r.cusum_onset_t_ns);
  return r;
}

CyclerPoint cycler_at(std::span<const int64_t> t_ns, std::span<const double> voltage_v,
                      std::span<const double> capacity_c, int64_t at_ns) {
  if (voltage_v.size() != t_ns.size() || capacity_c.size() != t_ns.size()) {
    throw InputError("cycler_at: time, voltage and capacity differ in length");
  }
  if (t_ns.size() < 2) throw InputError("cycler_at: the cycler record has fewer than 2 rows");
  if (at_ns < t_ns.front() || at_ns > t_ns.back()) {
    throw InputError(fmt::format("cycler_at: time {} ns lies outside the cycler record [{}, {}] ns", at_ns,
                                 t_ns.front(), t_ns.back()));
  }
  auto it = std::upper_bound(t_ns.begin(), t_ns.end(), at_ns);
  std::size_t j = static_cast<std::size_t>(it - t_ns.begin());
  j = std::clamp<std::size_t>(j, 1, t_ns.size() - 1);
  const double w = seconds_between(t_ns[j - 1], at_ns) / seconds_between(t_ns[j - 1], t_ns[j]);
  return {voltage_v[j - 1] + w * (voltage_v[j] - voltage_v[j - 1]),
          capacity_c[j - 1] + w * (capacity_c[j] - capacity_c[j - 1])};
}

}  // namespace opsync::correlate
