// Gas onset detection; see onset.h for the three methods and their references.
#include "correlate/onset.h"

#include <algorithm>
#include <cmath>
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
  return b;
}

OnsetResult detect_onset(std::span<const int64_t> t_ns, std::span<const double> value, const OnsetOptions& opt) {
  check_series(t_ns, value, std::max<std::size_t>(opt.min_points, 3), "onset");
  if (!(opt.k_sigma > 0) || !(opt.hold_s >= 0) || !(opt.rise_fraction > 0 && opt.rise_fraction < 1) ||
      !(opt.cusum_threshold_sigma > 0) || !(opt.plateau_window_s > 0) || !std::isfinite(opt.transport_delay_s)) {
    throw InputError("onset: options out of range (k_sigma > 0, hold_s >= 0, 0 < rise_fraction < 1, "
                     "cusum_threshold_sigma > 0, plateau_window_s > 0, finite transport_delay_s)");
  }
  OnsetResult r;
  r.method = {opt.k_sigma, opt.hold_s, opt.cusum_drift_sigma, opt.cusum_threshold_sigma, opt.rise_fraction,
              opt.plateau_window_s, opt.transport_delay_s, opt.quiet_begin_ns, opt.quiet_end_ns, opt.baseline_model};
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
      s = std::max(0.0, s + (value[i] - base.at(t_ns[i])) / sig - opt.cusum_drift_sigma);
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
  // the later maximum, intersected with the baseline.
  if (thr) {
    const std::size_t i0 = *thr;
    // Heights above the baseline from here on, so a drifting baseline does not tilt the rise.
    double peak = 0;
    for (std::size_t i = i0; i < n && seconds_between(t_ns[i0], t_ns[i]) <= opt.plateau_window_s; ++i) {
      peak = std::max(peak, value[i] - base.at(t_ns[i]));
    }
    const double top = opt.rise_fraction * peak;
    std::size_t i1 = i0;
    while (i1 + 1 < n && value[i1] - base.at(t_ns[i1]) < top) ++i1;
    if (i1 - i0 + 1 < 3) {
      r.note += "extrapolated: fewer than 3 samples on the initial rise; raise rise_fraction or sample faster. ";
    } else {
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
        r.note += "extrapolated: the fitted rise is not rising above the baseline. ";
      } else {
        const double intercept = (sy - slope * sx) / m;
        r.rise_slope_per_s = slope;
        r.extrapolated_onset_t_ns = t_ns[i0] + to_ns((b0 - intercept) / (slope - bs)) - lag_ns;
      }
    }
  } else {
    r.note += "extrapolated: needs the threshold onset as the foot of the rise. ";
  }
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
