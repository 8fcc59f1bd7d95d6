// Cycle summaries and dQ/dV peak tracking; see fade.h.
#include "correlate/fade.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "correlate/errors.h"

namespace opsync::correlate {

namespace {

HalfCycleSummary summarise(const CyclerRecord& rec, const HalfCycle& hc) {
  HalfCycleSummary s;
  s.half_cycle = hc.index;
  const std::vector<double> q_c = charge_passed_c(rec, hc.begin, hc.end);
  s.capacity_mah = q_c.back() / kCoulombPerMah;
  // Energy from V |I| dt; with a capacity column too, so the mean voltage divides it by the charge
  // from the same I dt.
  double e_j = 0, q_idt_c = 0;
  s.v_min = s.v_max = rec.voltage_v[hc.begin];
  for (std::size_t i = hc.begin + 1; i < hc.end; ++i) {
    // Differences of int64 ns first, then to double: absolute epoch times never pass through doubles.
    const double dt_s = static_cast<double>(rec.t_ns[i] - rec.t_ns[i - 1]) * kSecondsPerNs;
    const double i0 = std::abs(rec.current_a[i - 1]), i1 = std::abs(rec.current_a[i]);
    e_j += 0.5 * (rec.voltage_v[i] * i1 + rec.voltage_v[i - 1] * i0) * dt_s;
    q_idt_c += 0.5 * (i0 + i1) * dt_s;
    s.v_min = std::min(s.v_min, rec.voltage_v[i]);
    s.v_max = std::max(s.v_max, rec.voltage_v[i]);
  }
  s.energy_mwh = e_j / 3.6;  // J -> mWh
  s.mean_voltage_v = q_idt_c > 0 ? e_j / q_idt_c : std::numeric_limits<double>::quiet_NaN();
  return s;
}

std::optional<double> slope(const std::vector<PeakTrack::Point>& pts) {
  if (pts.size() < 3) return std::nullopt;
  double mx = 0, my = 0;
  for (const auto& p : pts) {
    mx += static_cast<double>(p.cycle);
    my += p.voltage_v;
  }
  mx /= static_cast<double>(pts.size());
  my /= static_cast<double>(pts.size());
  double sxx = 0, sxy = 0;
  for (const auto& p : pts) {
    sxx += (static_cast<double>(p.cycle) - mx) * (static_cast<double>(p.cycle) - mx);
    sxy += (static_cast<double>(p.cycle) - mx) * (p.voltage_v - my);
  }
  if (sxx <= 0) return std::nullopt;
  return sxy / sxx;
}

// Greedy matching, closest pairs first: each peak of this cycle joins the open track of its
// direction whose last point is nearest, within the window; the rest start new tracks.
void track(std::vector<PeakTrack>& tracks, const DqdvCurve& c, std::size_t cycle, double window_v) {
  struct Pair {
    double distance;
    std::size_t track, peak;
  };
  std::vector<Pair> pairs;
  for (std::size_t t = 0; t < tracks.size(); ++t) {
    if (tracks[t].direction != c.direction || tracks[t].points.back().cycle >= cycle) continue;
    for (std::size_t k = 0; k < c.peaks.size(); ++k) {
      const double d = std::abs(c.peaks[k].voltage_v - tracks[t].points.back().voltage_v);
      if (d <= window_v) pairs.push_back({d, t, k});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.distance < b.distance; });
  std::vector<bool> peak_used(c.peaks.size(), false), track_used(tracks.size(), false);
  for (const Pair& p : pairs) {
    if (peak_used[p.peak] || track_used[p.track]) continue;
    peak_used[p.peak] = track_used[p.track] = true;
    const DqdvPeak& pk = c.peaks[p.peak];
    tracks[p.track].points.push_back({cycle, pk.voltage_v, pk.height, pk.area});
  }
  for (std::size_t k = 0; k < c.peaks.size(); ++k) {
    if (peak_used[k]) continue;
    PeakTrack t;
    t.id = tracks.size();
    t.direction = c.direction;
    t.points.push_back({cycle, c.peaks[k].voltage_v, c.peaks[k].height, c.peaks[k].area});
    tracks.push_back(std::move(t));
  }
}

}  // namespace

FadeResult analyze_fade(const CyclerRecord& rec, const FadeOptions& opt) {
  if (!(opt.track_window_v > 0)) throw InputError("fade: the tracking window must be > 0 V");
  const std::vector<HalfCycle> halves = split_half_cycles(rec, opt.dqdv.half_cycles);  // validates rec
  if (halves.empty()) {
    throw InputError("fade: the record has no half-cycle (no run of current above the rest threshold)");
  }
  FadeResult out;
  out.first = halves.front().direction;
  std::vector<Direction> directions;
  for (const HalfCycle& h : halves) directions.push_back(h.direction);
  const std::vector<std::size_t> cycle_of = cycle_numbers(directions);
  out.cycles.resize(cycle_of.back() + 1);
  for (std::size_t c = 0; c < out.cycles.size(); ++c) out.cycles[c].cycle = c;
  for (std::size_t h = 0; h < halves.size(); ++h) {
    CycleSummary& cs = out.cycles[cycle_of[h]];
    auto& slot = halves[h].direction == Direction::charge ? cs.charge : cs.discharge;
    if (!slot) slot = summarise(rec, halves[h]);  // a second one of a direction in a cycle cannot happen
  }
  for (CycleSummary& cs : out.cycles) {
    if (cs.charge && cs.discharge && cs.charge->capacity_mah > 0 && cs.charge->energy_mwh > 0) {
      cs.coulombic_efficiency = cs.discharge->capacity_mah / cs.charge->capacity_mah;
      cs.energy_efficiency = cs.discharge->energy_mwh / cs.charge->energy_mwh;
    }
  }
  // dQ/dV per half-cycle (the chosen piece), peaks tracked in cycle order.
  for (const DqdvCurve& c : dqdv(rec, opt.dqdv)) {
    out.curve_cycle.push_back(cycle_of[c.half_cycle]);
    out.curves.push_back(c);
  }
  for (std::size_t k = 0; k < out.curves.size(); ++k) track(out.tracks, out.curves[k], out.curve_cycle[k], opt.track_window_v);
  for (PeakTrack& t : out.tracks) t.drift_v_per_cycle = slope(t.points);
  return out;
}

}  // namespace opsync::correlate
