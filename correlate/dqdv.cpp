// dQ/dV per half-cycle; see dqdv.h for the method and its references (cellpy ica.py, navani).
#include "correlate/dqdv.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "correlate/errors.h"
#include "correlate/smoothing.h"

namespace opsync::correlate {
namespace {

void check_options(const DqdvOptions& opt) {
  if (!(opt.dv_v > 0) || !std::isfinite(opt.dv_v)) {
    throw InputError(fmt::format("dQ/dV: voltage step must be > 0 (got {} V)", opt.dv_v));
  }
  if (!(opt.fwhm_v >= 0) || !std::isfinite(opt.fwhm_v)) {
    throw InputError(fmt::format("dQ/dV: smoothing FWHM must be >= 0 (got {} V)", opt.fwhm_v));
  }
  if (!(opt.active_mass_g >= 0) || !std::isfinite(opt.active_mass_g)) {
    throw InputError(fmt::format("dQ/dV: active mass must be >= 0 g, 0 for none (got {})", opt.active_mass_g));
  }
}

bool against(double prev, double cur, Direction dir) {
  return dir == Direction::charge ? cur < prev : cur > prev;
}

}  // namespace

std::vector<RowRange> monotone_pieces(std::span<const double> voltage_v, Direction dir, double tolerance_v) {
  std::vector<RowRange> out;
  if (voltage_v.empty()) return out;
  std::size_t begin = 0;
  double extreme = voltage_v[0];  // running max on charge, min on discharge
  for (std::size_t i = 1; i < voltage_v.size(); ++i) {
    const double v = voltage_v[i];
    const bool turned = dir == Direction::charge ? v < extreme - tolerance_v : v > extreme + tolerance_v;
    if (turned || (tolerance_v == 0 && against(voltage_v[i - 1], v, dir))) {
      out.push_back({begin, i});
      begin = i;
      extreme = v;
    } else {
      extreme = dir == Direction::charge ? std::max(extreme, v) : std::min(extreme, v);
    }
  }
  out.push_back({begin, voltage_v.size()});
  return out;
}

namespace {

// Local maxima of z; the middle of a flat top counts once (as scipy's _local_maxima_1d).
std::vector<std::size_t> local_maxima(const std::vector<double>& z) {
  std::vector<std::size_t> out;
  const std::size_t n = z.size();
  std::size_t i = 1;
  while (i + 1 < n) {
    if (z[i - 1] < z[i]) {
      std::size_t ahead = i + 1;
      while (ahead + 1 < n && z[ahead] == z[i]) ++ahead;
      if (z[ahead] < z[i]) out.push_back((i + ahead - 1) / 2);
      i = ahead;
    } else {
      ++i;
    }
  }
  return out;
}

// Prominence of the maximum at `peak` and the bases it is measured from (scipy's definition,
// without a window): walk each way while the curve stays at or below the peak, keeping the minimum.
struct Prominence {
  double value = 0;
  std::size_t left_base = 0, right_base = 0;
};
Prominence prominence_of(const std::vector<double>& z, std::size_t peak) {
  Prominence p;
  double left_min = z[peak];
  p.left_base = peak;
  for (std::size_t i = peak + 1; i-- > 0 && z[i] <= z[peak];) {
    if (z[i] < left_min) {
      left_min = z[i];
      p.left_base = i;
    }
  }
  double right_min = z[peak];
  p.right_base = peak;
  for (std::size_t i = peak; i < z.size() && z[i] <= z[peak]; ++i) {
    if (z[i] < right_min) {
      right_min = z[i];
      p.right_base = i;
    }
  }
  p.value = z[peak] - std::max(left_min, right_min);
  return p;
}

// Interpolated sample positions where z falls to `level` on each side of the peak, within its bases.
std::pair<double, double> crossings(const std::vector<double>& z, std::size_t peak, const Prominence& pr,
                                    double level) {
  std::size_t i = peak;
  while (pr.left_base < i && level < z[i]) --i;
  double left = static_cast<double>(i);
  if (z[i] < level) left += (level - z[i]) / (z[i + 1] - z[i]);
  i = peak;
  while (i < pr.right_base && level < z[i]) ++i;
  double right = static_cast<double>(i);
  if (z[i] < level) right -= (level - z[i]) / (z[i - 1] - z[i]);
  return {left, right};
}

}  // namespace

std::vector<DqdvPeak> find_peaks(std::span<const double> voltage_v, std::span<const double> y, const PeakOptions& opt,
                                 double sign) {
  std::vector<DqdvPeak> peaks;
  const std::size_t n = y.size();
  if (n < 3 || voltage_v.size() != n) return peaks;
  // Work on z = s*y so that discharge curves (negative) have their peaks as maxima too.
  double s = 1;
  double zmax = 0;
  for (double v : y) {
    if (std::abs(v) > zmax) {
      zmax = std::abs(v);
      s = v < 0 ? -1 : 1;
    }
  }
  if (zmax <= 0) return peaks;
  if (sign != 0) s = sign > 0 ? 1 : -1;
  std::vector<double> z(n);
  for (std::size_t i = 0; i < n; ++i) z[i] = s * y[i];
  const double dv = (voltage_v[n - 1] - voltage_v[0]) / static_cast<double>(n - 1);
  const std::vector<std::size_t> maxima = local_maxima(z);
  // The thresholds are fractions of the tallest peak, not of the curve's largest value: a constant-
  // voltage end of a charge sends dQ/dV up a hundredfold at the edge of the curve, which is no peak.
  double zref = 0;
  for (const std::size_t i : maxima) zref = std::max(zref, z[i]);
  std::vector<std::size_t> at;  // grid index of each accepted peak
  for (const std::size_t i : maxima) {
    const Prominence pr = prominence_of(z, i);
    if (pr.value < opt.min_prominence_fraction * zref || z[i] < opt.min_height_fraction * zref) continue;
    const auto [left_ip, right_ip] = crossings(z, i, pr, z[i] - 0.5 * pr.value);
    const double width_v = (right_ip - left_ip) * dv;
    if (width_v < opt.min_width_v) continue;
    DqdvPeak p;
    const double zl = z[i - 1], zc = z[i], zr = z[i + 1];
    const double denom = zl - 2 * zc + zr;
    const double delta = denom < 0 ? 0.5 * (zl - zr) / denom : 0.0;  // vertex of the parabola, in samples
    p.voltage_v = voltage_v[i] + delta * dv;
    const double h = zc - 0.25 * (zl - zr) * delta;
    p.height = s * h;
    p.prominence = pr.value;
    p.width_v = width_v;
    p.left_base_v = voltage_v[pr.left_base];
    p.right_base_v = voltage_v[pr.right_base];
    const double half = 0.5 * h;
    std::optional<double> left, right;
    for (std::size_t j = i; j-- > 0;) {
      if (z[j] <= half) {
        left = voltage_v[j] + (half - z[j]) / (z[j + 1] - z[j]) * dv;
        break;
      }
    }
    for (std::size_t j = i + 1; j < n; ++j) {
      if (z[j] <= half) {
        right = voltage_v[j - 1] + (z[j - 1] - half) / (z[j - 1] - z[j]) * dv;
        break;
      }
    }
    if (left && right) p.fwhm_v = *right - *left;
    peaks.push_back(p);
    at.push_back(i);
  }
  // Area: between the lowest points separating a peak from its accepted neighbours (or the ends),
  // what stands above the higher of those two valleys. Prominence's bases are no use here: the
  // tallest peak's bases are the curve's ends, and its area would take in every other feature.
  for (std::size_t k = 0; k < peaks.size(); ++k) {
    const std::size_t from = k == 0 ? 0 : at[k - 1];
    const std::size_t to = k + 1 == peaks.size() ? n - 1 : at[k + 1];
    const std::size_t left_valley = static_cast<std::size_t>(
        std::min_element(z.begin() + static_cast<std::ptrdiff_t>(from), z.begin() + static_cast<std::ptrdiff_t>(at[k]) + 1) -
        z.begin());
    const std::size_t right_valley = static_cast<std::size_t>(
        std::min_element(z.begin() + static_cast<std::ptrdiff_t>(at[k]), z.begin() + static_cast<std::ptrdiff_t>(to) + 1) -
        z.begin());
    const double floor = std::max(z[left_valley], z[right_valley]);
    for (std::size_t j = left_valley; j < right_valley; ++j) {
      peaks[k].area += 0.5 * (std::max(0.0, z[j] - floor) + std::max(0.0, z[j + 1] - floor)) * dv;
    }
  }
  return peaks;
}

DqdvCurve dqdv_piece(std::span<const double> voltage_v, std::span<const double> charge_c, Direction dir,
                     const DqdvOptions& opt) {
  check_options(opt);
  if (voltage_v.size() != charge_c.size()) throw InputError("dQ/dV: voltage and capacity differ in length");
  // The voltage coordinate is the running extreme (max on charge): a row that dips back by noise
  // (within the piece's tolerance) counts at the extreme, like rows at a repeated voltage, which
  // keep the last capacity (time order). Then make voltage ascending.
  std::vector<double> x, q;
  double extreme = voltage_v.empty() ? 0.0 : voltage_v[0];
  for (std::size_t i = 0; i < voltage_v.size(); ++i) {
    if (i > 0 && against(extreme, voltage_v[i], dir) &&
        std::abs(voltage_v[i] - extreme) > opt.turn_back_tolerance_v) {
      throw InputError(fmt::format("dQ/dV: voltage turns back at row {} of the piece by more than the {} V tolerance; "
                                   "split with monotone_pieces",
                                   i, opt.turn_back_tolerance_v));
    }
    if (i == 0 || !against(extreme, voltage_v[i], dir)) extreme = voltage_v[i];
    if (!x.empty() && extreme == x.back()) {
      q.back() = charge_c[i];
    } else {
      x.push_back(extreme);
      q.push_back(charge_c[i]);
    }
  }
  if (dir == Direction::discharge) {
    std::reverse(x.begin(), x.end());  // reversing a monotone sequence, not sorting
    std::reverse(q.begin(), q.end());
  }
  const double dv = opt.dv_v;
  if (x.size() < 2) throw InputError("dQ/dV: the piece has fewer than 2 distinct voltages");
  // Grid points k*dv inside [x.front(), x.back()]; the 1e-9 absorbs rounding of exact multiples.
  const auto k0 = static_cast<int64_t>(std::ceil(x.front() / dv - 1e-9));
  const auto k1 = static_cast<int64_t>(std::floor(x.back() / dv + 1e-9));
  if (k1 - k0 + 1 < 3) {
    throw InputError(fmt::format("dQ/dV: the piece spans {} V, less than 3 grid steps of {} V", x.back() - x.front(), dv));
  }
  const auto n = static_cast<std::size_t>(k1 - k0 + 1);
  DqdvCurve c;
  c.direction = dir;
  c.voltage_v.resize(n);
  std::vector<double> qg(n);
  std::size_t j = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = std::clamp(static_cast<double>(k0 + static_cast<int64_t>(i)) * dv, x.front(), x.back());
    c.voltage_v[i] = g;
    while (j + 2 < x.size() && x[j + 1] < g) ++j;
    const double w = (g - x[j]) / (x[j + 1] - x[j]);
    qg[i] = q[j] + w * (q[j + 1] - q[j]);
  }
  // C/V -> mAh/V (and per gram) at this edge; the grid step is exact, so use dv.
  const double scale = 1.0 / kCoulombPerMah / (opt.active_mass_g > 0 ? opt.active_mass_g : 1.0);
  std::vector<double> d(n);
  d[0] = (qg[1] - qg[0]) / dv;
  d[n - 1] = (qg[n - 1] - qg[n - 2]) / dv;
  for (std::size_t i = 1; i + 1 < n; ++i) d[i] = (qg[i + 1] - qg[i - 1]) / (2 * dv);
  for (double& v : d) v *= scale;
  c.dqdv = smooth_gaussian(d, opt.fwhm_v / kFwhmPerSigma / dv);
  // Charge curves peak upwards, discharge curves downwards, whatever an edge does.
  c.peaks = find_peaks(c.voltage_v, c.dqdv, opt.peaks, dir == Direction::charge ? 1.0 : -1.0);
  c.method.piece_choice = opt.pieces == PieceChoice::longest ? "longest monotone piece" : "each monotone piece";
  c.method.units = opt.active_mass_g > 0 ? "mAh/g/V" : "mAh/V";
  c.method.dv_v = dv;
  c.method.fwhm_v = opt.fwhm_v;
  c.method.active_mass_g = opt.active_mass_g;
  c.method.peaks = opt.peaks;
  c.method.rest_current_a = opt.half_cycles.rest_current_a;
  c.method.turn_back_tolerance_v = opt.turn_back_tolerance_v;
  return c;
}

std::vector<DqdvCurve> dqdv(const CyclerRecord& rec, const DqdvOptions& opt) {
  check_options(opt);
  const auto halves = split_half_cycles(rec, opt.half_cycles);  // validates rec
  const bool column = !rec.capacity_c.empty();
  std::vector<DqdvCurve> out;
  for (const auto& hc : halves) {
    const std::span<const double> v(rec.voltage_v.data() + hc.begin, hc.end - hc.begin);
    // Counters that reset per step (or per half-cycle) and counters that run on both give the
    // charge passed since the half-cycle's start; resets inside it are bridged (half_cycles.h).
    std::size_t resets = 0;
    const std::vector<double> q = charge_passed_c(rec, hc.begin, hc.end, &resets);
    const auto pieces = monotone_pieces(v, hc.direction, opt.turn_back_tolerance_v);
    std::vector<std::size_t> chosen;
    if (opt.pieces == PieceChoice::longest) {
      std::size_t best = 0;
      for (std::size_t p = 1; p < pieces.size(); ++p) {
        auto span_of = [&](const RowRange& r) { return std::abs(v[r.end - 1] - v[r.begin]); };
        if (span_of(pieces[p]) > span_of(pieces[best])) best = p;
      }
      chosen.push_back(best);
    } else {
      for (std::size_t p = 0; p < pieces.size(); ++p) chosen.push_back(p);
    }
    for (std::size_t p : chosen) {
      const auto& r = pieces[p];
      const double lo = std::min(v[r.begin], v[r.end - 1]);
      const double hi = std::max(v[r.begin], v[r.end - 1]);
      if (std::floor(hi / opt.dv_v + 1e-9) - std::ceil(lo / opt.dv_v - 1e-9) < 2) continue;  // too short for a grid
      auto c = dqdv_piece(v.subspan(r.begin, r.end - r.begin), std::span<const double>(q).subspan(r.begin, r.end - r.begin),
                          hc.direction, opt);
      c.half_cycle = hc.index;
      c.piece = p;
      c.pieces_found = pieces.size();
      c.method.capacity_source = column ? "column" : "integrated (trapezoid of I dt)";
      if (column && resets > 0) {
        c.method.capacity_source += fmt::format(" ({} counter reset(s) in the half-cycle bridged by I dt)", resets);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace opsync::correlate
