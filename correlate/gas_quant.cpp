// Gas quantities from a DEMS ion current; see gas_quant.h.
#include "correlate/gas_quant.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "correlate/errors.h"

namespace opsync::correlate {

namespace {

int64_t to_ns(double s) { return std::llround(s * 1e9); }

// Trapezoid of y over [from, to) (times on y's clock), y linear between samples, 0 outside them.
double integrate(std::span<const int64_t> t_ns, std::span<const double> y, int64_t from_ns, int64_t to_ns_) {
  double sum = 0;
  for (std::size_t i = 1; i < t_ns.size(); ++i) {
    const int64_t a = std::max(t_ns[i - 1], from_ns), b = std::min(t_ns[i], to_ns_);
    if (b <= a) continue;
    const double span = static_cast<double>(t_ns[i] - t_ns[i - 1]);
    const double ya = y[i - 1] + (y[i] - y[i - 1]) * static_cast<double>(a - t_ns[i - 1]) / span;
    const double yb = y[i - 1] + (y[i] - y[i - 1]) * static_cast<double>(b - t_ns[i - 1]) / span;
    sum += 0.5 * (ya + yb) * static_cast<double>(b - a) * kSecondsPerNs;
  }
  return sum;
}

std::vector<double> excess(std::span<const int64_t> t_ns, std::span<const double> ion_a, const Baseline& b) {
  std::vector<double> out(ion_a.size());
  for (std::size_t i = 0; i < ion_a.size(); ++i) out[i] = ion_a[i] - b.at(t_ns[i]);
  return out;
}

void check(std::span<const int64_t> t_ns, std::span<const double> ion_a, Window w, const char* what) {
  if (t_ns.size() != ion_a.size() || t_ns.size() < 2) {
    throw InputError(fmt::format("{}: the ion-current series is empty or its columns differ in length", what));
  }
  if (!(w.end_ns > w.begin_ns)) throw InputError(fmt::format("{}: the interval is empty (end before start)", what));
}

}  // namespace

Sensitivity sensitivity_from_flow(std::span<const int64_t> t_ns, std::span<const double> ion_a, Window quiet,
                                  Window gas_on, double flow_mol_s, double flow_sigma_mol_s) {
  check(t_ns, ion_a, gas_on, "calibration gas");
  if (!(flow_mol_s > 0) || !(flow_sigma_mol_s >= 0)) {
    throw InputError("calibration gas: the molar flow must be > 0 (and its uncertainty >= 0)");
  }
  const Baseline b = robust_baseline(t_ns, ion_a, quiet.begin_ns, quiet.end_ns, 10, 0, BaselineModel::linear);
  double sum = 0, sum2 = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < t_ns.size(); ++i) {
    if (t_ns[i] < gas_on.begin_ns || t_ns[i] >= gas_on.end_ns) continue;
    const double e = ion_a[i] - b.at(t_ns[i]);
    sum += e;
    sum2 += e * e;
    ++n;
  }
  if (n < 3) throw InputError("calibration gas: fewer than 3 ion-current samples inside the interval");
  const double mean = sum / static_cast<double>(n);
  if (!(mean > 0)) throw InputError("calibration gas: the ion current is not above its baseline during the interval");
  const double sd = std::sqrt(std::max(0.0, (sum2 - sum * mean) / static_cast<double>(n - 1)));
  const double sigma_mean = std::hypot(sd / std::sqrt(static_cast<double>(n)), b.sigma_at(gas_on.begin_ns));
  Sensitivity s;
  s.method = "calibration gas";
  s.a_per_mol_s = mean / flow_mol_s;
  s.sigma = s.a_per_mol_s * std::hypot(sigma_mean / mean, flow_sigma_mol_s / flow_mol_s);
  s.amount_mol = flow_mol_s * static_cast<double>(gas_on.end_ns - gas_on.begin_ns) * kSecondsPerNs;
  s.excess_a_s = mean * static_cast<double>(gas_on.end_ns - gas_on.begin_ns) * kSecondsPerNs;
  return s;
}

Sensitivity sensitivity_from_faraday(std::span<const int64_t> ms_t_ns, std::span<const double> ion_a, Window quiet,
                                     const CyclerRecord& cell, Window reference, double electrons_per_molecule,
                                     double delay_s, double tail_s) {
  check(ms_t_ns, ion_a, reference, "Faraday calibration");
  validate(cell);
  if (!(electrons_per_molecule > 0) || !(tail_s >= 0) || !std::isfinite(delay_s)) {
    throw InputError("Faraday calibration: electrons per molecule must be > 0, the tail >= 0 s, the delay finite");
  }
  std::vector<double> abs_i(cell.current_a.size());
  for (std::size_t i = 0; i < abs_i.size(); ++i) abs_i[i] = std::abs(cell.current_a[i]);
  const double q_c = integrate(cell.t_ns, abs_i, reference.begin_ns, reference.end_ns);
  if (!(q_c > 0)) throw InputError("Faraday calibration: no charge passed in the reference interval");
  const Baseline b = robust_baseline(ms_t_ns, ion_a, quiet.begin_ns, quiet.end_ns, 10, 0, BaselineModel::linear);
  const std::vector<double> ex = excess(ms_t_ns, ion_a, b);
  const int64_t lag = to_ns(delay_s);
  const int64_t from = reference.begin_ns + lag, to = reference.end_ns + lag + to_ns(tail_s);
  const double area = integrate(ms_t_ns, ex, from, to);
  if (!(area > 0)) throw InputError("Faraday calibration: the ion current is not above its baseline after the reference");
  Sensitivity s;
  s.method = "faraday";
  s.amount_mol = q_c / (electrons_per_molecule * kFaradayCPerMol);
  s.excess_a_s = area;
  s.a_per_mol_s = area / s.amount_mol;
  // The area's noise: sigma sqrt(duration x sample interval) for white noise, and the baseline's
  // uncertainty over the whole duration.
  const double duration_s = static_cast<double>(to - from) * kSecondsPerNs;
  const double dt_s = static_cast<double>(ms_t_ns.back() - ms_t_ns.front()) * kSecondsPerNs /
                      static_cast<double>(ms_t_ns.size() - 1);
  const double sigma_area = std::hypot(b.sigma * std::sqrt(duration_s * dt_s), b.sigma_at(from) * duration_s);
  s.sigma = s.a_per_mol_s * sigma_area / area;
  return s;
}

std::vector<double> molar_rate_mol_s(std::span<const double> ion_a, std::span<const int64_t> t_ns,
                                     const Baseline& baseline, double sensitivity_a_per_mol_s) {
  if (!(sensitivity_a_per_mol_s > 0)) throw InputError("gas rate: the sensitivity must be > 0");
  std::vector<double> out = excess(t_ns, ion_a, baseline);
  for (double& v : out) v /= sensitivity_a_per_mol_s;
  return out;
}

GasAmounts gas_amounts(std::span<const int64_t> ms_t_ns, std::span<const double> ion_a, const Baseline& baseline,
                       const Sensitivity& s, double delay_s, const CyclerRecord& cell,
                       std::optional<int64_t> onset_cell_ns, const HalfCycleOptions& hc) {
  const std::vector<double> rate = molar_rate_mol_s(ion_a, ms_t_ns, baseline, s.a_per_mol_s);
  // The rate on the cell's clock: the MS saw at t what the cell made at t - delay.
  const int64_t lag = to_ns(delay_s);
  std::vector<int64_t> cell_t(ms_t_ns.size());
  for (std::size_t i = 0; i < cell_t.size(); ++i) cell_t[i] = ms_t_ns[i] - lag;
  std::vector<double> abs_i(cell.current_a.size());
  for (std::size_t i = 0; i < abs_i.size(); ++i) abs_i[i] = std::abs(cell.current_a[i]);
  GasAmounts out;
  for (const HalfCycle& h : split_half_cycles(cell, hc)) {
    GasHalfCycle g;
    g.half_cycle = h.index;
    g.direction = h.direction;
    g.begin_ns = cell.t_ns[h.begin];
    g.end_ns = cell.t_ns[h.end - 1];
    g.charge_c = integrate(cell.t_ns, abs_i, g.begin_ns, g.end_ns);
    g.amount_mol = integrate(cell_t, rate, g.begin_ns, g.end_ns);
    g.amount_sigma_mol = std::abs(g.amount_mol) * s.sigma / s.a_per_mol_s;
    if (onset_cell_ns && *onset_cell_ns >= g.begin_ns && *onset_cell_ns < g.end_ns) {
      out.release_charge_c = integrate(cell.t_ns, abs_i, *onset_cell_ns, g.end_ns);
      out.release_amount_mol = integrate(cell_t, rate, *onset_cell_ns, g.end_ns);
      if (*out.release_amount_mol > 0) {
        out.electrons_per_molecule = *out.release_charge_c / (kFaradayCPerMol * *out.release_amount_mol);
      }
    }
    out.half_cycles.push_back(g);
  }
  return out;
}

}  // namespace opsync::correlate
