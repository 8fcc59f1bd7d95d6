// Round-trip-gated weighted regression of sync exchanges (chrony sourcestats/regress style).
#include "clock/sync_regression.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace opsync::clock {
namespace {

// Below this source-time span the rate is not observable through the jitter: keep the nominal
// rate and fit the offset only (a 1 ms jitter over 1 s would mean 1000 ppm of slope noise).
constexpr double kMinSpanForRateNs = 2e9;
// Floor of the round-trip spread used for gating, so equal round trips do not gate everything.
constexpr double kMinRttSpreadNs = 20'000;
// Timestamping granularity of the host side (a read syscall's stamp): keeps one lucky
// near-zero round trip from taking all the weight.
constexpr double kDistanceFloorNs = 5'000;

// A point of the bound lines' hulls: source offset from the fit centre, bound in ns there.
struct HullPoint {
  double x;
  double y;
};

// z of (a - o) x (b - o): > 0 when o, a, b turn left.
double cross(const HullPoint& o, const HullPoint& a, const HullPoint& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// Andrew's monotone chain over points sorted by x: the upper hull (the only points that can
// give max(y - s x) for some slope s) or the lower hull (min(y - s x)).
std::vector<HullPoint> half_hull(const std::vector<HullPoint>& sorted, bool upper) {
  std::vector<HullPoint> h;
  for (const HullPoint& p : sorted) {
    while (h.size() >= 2) {
      const double c = cross(h[h.size() - 2], h.back(), p);
      if (upper ? c < 0 : c > 0) break;
      h.pop_back();
    }
    h.push_back(p);
  }
  return h;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace

SyncRegression::SyncRegression(SyncOptions options) : opt_(options) {
  if (opt_.window < 2) opt_.window = 2;
  if (opt_.nominal_ns_per_unit <= 0) opt_.nominal_ns_per_unit = 1.0;
  slope_ = opt_.nominal_ns_per_unit;
}

void SyncRegression::reset() {
  points_.clear();
  fitted_ = false;
  slope_ = opt_.nominal_ns_per_unit;
  rms_ns_ = max_ns_ = 0;
  bound_half_width_ns_ = 0;
  consecutive_deviations_ = 0;
}

bool SyncRegression::add(const SyncExchange& x) {
  const double processing_ns = static_cast<double>(x.t3_src - x.t2_src) * opt_.nominal_ns_per_unit;
  const auto rtt_ns = std::max<int64_t>(0, x.t4_ref_ns - x.t1_ref_ns - std::llround(processing_ns));
  if (x.t4_ref_ns < x.t1_ref_ns || rtt_ns > opt_.max_rtt_ns) {
    ++stats_.gated;
    return false;
  }
  if (points_.size() >= 8) {
    std::vector<double> rtts;
    for (const Point& p : points_) rtts.push_back(static_cast<double>(p.rtt_ns));
    const double lo = *std::min_element(rtts.begin(), rtts.end());
    const double spread = std::max((median(rtts) - lo) / 0.7, kMinRttSpreadNs);
    if (static_cast<double>(rtt_ns) > lo + opt_.rtt_gate_sigma * spread) {
      ++stats_.gated;
      return false;
    }
  }
  const Point p{x.t2_src + (x.t3_src - x.t2_src) / 2, x.t1_ref_ns + (x.t4_ref_ns - x.t1_ref_ns) / 2, rtt_ns};
  if (fitted_) {
    const double dev = std::fabs(predict_offset_ns(p));
    if (dev > static_cast<double>(opt_.step_threshold_ns)) {
      if (++consecutive_deviations_ < opt_.step_count) {
        ++stats_.outliers;
        return true;  // counted, not fitted: one stray reply must not bend the model
      }
      ++stats_.steps;  // the source clock stepped: start over from this point
      reset();
    } else {
      consecutive_deviations_ = 0;
    }
  }
  points_.push_back(p);
  while (points_.size() > opt_.window) points_.pop_front();
  ++stats_.accepted;
  fit();
  return true;
}

double SyncRegression::predict_offset_ns(const Point& p) const {
  const double dx = static_cast<double>(p.x_src - x0_);
  const double dy = static_cast<double>(p.y_ref_ns - y0_) - y0_frac_;
  return dy - slope_ * dx;
}

void SyncRegression::fit() {
  // A point is good to its distance: half its round trip plus half the source's resolution
  // (NTP's on-wire bound). Weights are inverse variances, 1/distance^2, so the short exchanges
  // carry the fit and long ones barely move it (stronger than chrony's weighting, which
  // assumes distances close together; a USB link's delays spread over a millisecond).
  std::vector<double> weight;
  weight.reserve(points_.size());
  double dmin = 1e300;
  for (const Point& p : points_) {
    const double d = static_cast<double>(p.rtt_ns) / 2 + opt_.resolution_ns / 2 + kDistanceFloorNs;
    dmin = std::min(dmin, d);
    weight.push_back(1.0 / (d * d));
  }
  std::vector<bool> use(points_.size(), true);

  const Point& newest = points_.back();
  for (int pass = 0; pass < 4; ++pass) {
    x0_ = newest.x_src;
    y0_ = newest.y_ref_ns;
    double sw = 0, sx = 0, sy = 0;
    int64_t x_lo = INT64_MAX, x_hi = INT64_MIN;
    for (size_t i = 0; i < points_.size(); ++i) {
      if (!use[i]) continue;
      const double w = weight[i];
      const double dx = static_cast<double>(points_[i].x_src - x0_);
      const double dy = static_cast<double>(points_[i].y_ref_ns - y0_);
      sw += w;
      sx += w * dx;
      sy += w * dy;
      x_lo = std::min(x_lo, points_[i].x_src);
      x_hi = std::max(x_hi, points_[i].x_src);
    }
    const double mx = sx / sw, my = sy / sw;
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < points_.size(); ++i) {
      if (!use[i]) continue;
      const double w = weight[i];
      const double dx = static_cast<double>(points_[i].x_src - x0_) - mx;
      const double dy = static_cast<double>(points_[i].y_ref_ns - y0_) - my;
      sxx += w * dx * dx;
      sxy += w * dx * dy;
    }
    const double span_ns = static_cast<double>(x_hi - x_lo) * opt_.nominal_ns_per_unit;
    slope_ = (span_ns >= kMinSpanForRateNs && sxx > 0) ? sxy / sxx : opt_.nominal_ns_per_unit;
    y0_frac_ = my - slope_ * mx;  // intercept at x0, in ns relative to y0_

    // Residuals; drop the worst point once if it is far outside the rest, then refit.
    double ss = 0, sws = 0, worst = 0;
    size_t worst_i = 0, n = 0;
    for (size_t i = 0; i < points_.size(); ++i) {
      if (!use[i]) continue;
      const double r = std::fabs(predict_offset_ns(points_[i]));
      ss += weight[i] * r * r;
      sws += weight[i];
      ++n;
      if (r > worst) {
        worst = r;
        worst_i = i;
      }
    }
    rms_ns_ = std::sqrt(ss / sws);  // weighted: the residual of the points that carry the fit
    max_ns_ = worst;
    if (n > 4 && worst > opt_.outlier_rms * rms_ns_ && worst > 1000.0 && worst_i + 1 != points_.size()) {
      use[worst_i] = false;
      ++stats_.outliers;
      continue;
    }
    break;
  }
  min_rtt_ns_ = static_cast<int64_t>(2 * (dmin - kDistanceFloorNs) - opt_.resolution_ns);
  fitted_ = true;
  refine_with_bounds(use);
}

// Each exchange bounds the truth: the source's midpoint happened after the request left and
// before the reply arrived, i.e. within +-(rtt/2 + resolution/2) of the reference midpoint. The
// line through the middle of the region all bounds allow (found by maximising the margin over
// the slope, a concave function of it) is decided by the exchanges with the shortest one-way
// delays in each direction, not by the average: with 0..1 ms of USB jitter each way, a few
// lucky exchanges pin it to tens of us where the weighted midpoints scatter by ~100 us. As in
// TICSync's convex-hull estimator. Falls back to the regression when the bounds conflict.
void SyncRegression::refine_with_bounds(const std::vector<bool>& use) {
  if (points_.size() < 4) return;
  int64_t x_lo = INT64_MAX, x_hi = INT64_MIN;
  for (size_t i = 0; i < points_.size(); ++i) {
    if (!use[i]) continue;
    x_lo = std::min(x_lo, points_[i].x_src);
    x_hi = std::max(x_hi, points_[i].x_src);
  }
  const bool fit_rate = static_cast<double>(x_hi - x_lo) * opt_.nominal_ns_per_unit >= kMinSpanForRateNs;
  // Exchange i allows intercepts (at x0, for slope s) in [lower_i - s dx_i, upper_i - s dx_i].
  // Only the upper hull of the (dx, lower) points can be the largest lower bound for some
  // slope, and only the lower hull of the (dx, upper) points the smallest upper bound; the
  // search below evaluates those few points instead of the whole window.
  std::vector<HullPoint> lower, upper;
  for (size_t i = 0; i < points_.size(); ++i) {
    if (!use[i]) continue;
    const double half = static_cast<double>(points_[i].rtt_ns) / 2 + opt_.resolution_ns / 2;
    const double dx = static_cast<double>(points_[i].x_src - x0_);
    const double dy = static_cast<double>(points_[i].y_ref_ns - y0_);
    lower.push_back({dx, dy - half});
    upper.push_back({dx, dy + half});
  }
  auto by_x = [](const HullPoint& a, const HullPoint& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); };
  if (!std::is_sorted(lower.begin(), lower.end(), by_x)) {  // replies arrive in source-time order
    std::sort(lower.begin(), lower.end(), by_x);
    std::sort(upper.begin(), upper.end(), by_x);
  }
  const std::vector<HullPoint> lower_hull = half_hull(lower, true);
  const std::vector<HullPoint> upper_hull = half_hull(upper, false);
  // Feasible intercept interval [lo, hi] at x0 for a given slope.
  auto bounds = [&](double slope, double& lo, double& hi) {
    lo = -1e300;
    hi = 1e300;
    for (const HullPoint& p : lower_hull) lo = std::max(lo, p.y - slope * p.x);
    for (const HullPoint& p : upper_hull) hi = std::min(hi, p.y - slope * p.x);
    return hi - lo;
  };
  double best_slope = slope_;
  if (fit_rate) {
    // Ternary search of the margin over +-500 ppm around the regression slope.
    double a = slope_ * (1 - 500e-6), b = slope_ * (1 + 500e-6), lo = 0, hi = 0;
    for (int it = 0; it < 40; ++it) {  // (2/3)^40 of +-500 ppm: far below 1e-3 ppm
      const double m1 = a + (b - a) / 3, m2 = b - (b - a) / 3;
      if (bounds(m1, lo, hi) < bounds(m2, lo, hi)) {
        a = m1;
      } else {
        b = m2;
      }
    }
    best_slope = (a + b) / 2;
  }
  double lo = 0, hi = 0;
  if (bounds(best_slope, lo, hi) < 0) return;  // bounds conflict (a stepped or misbehaving clock)
  slope_ = best_slope;
  y0_frac_ = (lo + hi) / 2;
  bound_half_width_ns_ = (hi - lo) / 2;
  // Residuals of the midpoints against the final line (each is within its own bound).
  double ss = 0, worst = 0;
  size_t n = 0;
  for (size_t i = 0; i < points_.size(); ++i) {
    if (!use[i]) continue;
    const double r = std::fabs(predict_offset_ns(points_[i]));
    ss += r * r;
    worst = std::max(worst, r);
    ++n;
  }
  rms_ns_ = std::sqrt(ss / static_cast<double>(n));
  max_ns_ = worst;
}

int64_t SyncRegression::to_ref_ns(int64_t t_src) const {
  const double dy = slope_ * static_cast<double>(t_src - x0_) + y0_frac_;
  return y0_ + std::llround(dy);
}

// The source's frequency error: a source running fast has fewer reference ns per unit.
double SyncRegression::drift_ppm() const { return (opt_.nominal_ns_per_unit / slope_ - 1.0) * 1e6; }

records::ClockModel SyncRegression::model(int64_t fitted_at_ns) const {
  records::ClockModel m;
  m.method = "regression";
  m.rate = slope_;
  // t_ref = offset + rate * t_src, with the intercept moved from x0 to t_src = 0 in integers
  // where possible: offset = y0 + frac - rate * x0.
  const long double off = static_cast<long double>(y0_) + y0_frac_ - static_cast<long double>(slope_) * x0_;
  m.offset_ns = static_cast<int64_t>(std::llround(off));
  m.residual_rms_ns = rms_ns_;
  m.residual_max_ns = max_ns_;
  m.n_points = static_cast<int64_t>(points_.size());
  m.fitted_at_ns = fitted_at_ns;
  // What the bounds still allow, when they were used; else the regression's scatter.
  m.uncertainty_ns = bound_half_width_ns_ > 0 ? bound_half_width_ns_
                                              : std::sqrt(rms_ns_ * rms_ns_ + std::pow(static_cast<double>(min_rtt_ns_) / 2, 2));
  return m;
}

}  // namespace opsync::clock
