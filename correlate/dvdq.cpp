// dV/dQ per half-cycle; see dvdq.h.
#include "correlate/dvdq.h"

#include <algorithm>
#include <cmath>

#include "correlate/errors.h"
#include "correlate/smoothing.h"

namespace opsync::correlate {

std::vector<DvdqCurve> dvdq(const CyclerRecord& rec, const DvdqOptions& opt) {
  if (opt.grid_points < 3) throw InputError("dV/dQ: the charge grid needs at least 3 points");
  if (!(opt.fwhm_fraction >= 0) || opt.fwhm_fraction >= 1) {
    throw InputError("dV/dQ: the smoothing FWHM is a fraction of the half-cycle's charge, in [0, 1)");
  }
  std::vector<DvdqCurve> out;
  for (const HalfCycle& hc : split_half_cycles(rec, opt.half_cycles)) {
    DvdqCurve c;
    c.half_cycle = hc.index;
    c.direction = hc.direction;
    const std::vector<double> q_c = charge_passed_c(rec, hc.begin, hc.end, &c.counter_resets);
    // Rows at the same charge (the counter did not move) keep the last voltage, as dQ/dV keeps the
    // last charge at a repeated voltage.
    std::vector<double> q, v;
    for (std::size_t i = 0; i < q_c.size(); ++i) {
      if (!q.empty() && q_c[i] <= q.back()) {
        v.back() = rec.voltage_v[hc.begin + i];
        continue;
      }
      q.push_back(q_c[i]);
      v.push_back(rec.voltage_v[hc.begin + i]);
    }
    if (q.size() < 3) continue;
    const std::size_t n = opt.grid_points;
    const double q_end = q.back(), dq = q_end / static_cast<double>(n - 1);
    c.charge_mah.resize(n);
    c.voltage_v.resize(n);
    std::size_t j = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const double g = std::min(q_end, dq * static_cast<double>(k));
      while (j + 2 < q.size() && q[j + 1] < g) ++j;
      const double w = (g - q[j]) / (q[j + 1] - q[j]);
      c.charge_mah[k] = g / kCoulombPerMah;
      c.voltage_v[k] = v[j] + w * (v[j + 1] - v[j]);
    }
    std::vector<double> d(n);
    const double dq_mah = dq / kCoulombPerMah;
    d[0] = (c.voltage_v[1] - c.voltage_v[0]) / dq_mah;
    d[n - 1] = (c.voltage_v[n - 1] - c.voltage_v[n - 2]) / dq_mah;
    for (std::size_t k = 1; k + 1 < n; ++k) d[k] = (c.voltage_v[k + 1] - c.voltage_v[k - 1]) / (2 * dq_mah);
    // Smoothing normalised by the kernel's weight inside the curve, so that the steep ends, which
    // dV/dQ is read for, do not fall off towards zero as a plain zero-padded convolution makes them.
    const double sigma = opt.fwhm_fraction * static_cast<double>(n - 1) / kFwhmPerSigma;
    if (sigma > 0) {
      const std::vector<double> ones(n, 1.0);
      const std::vector<double> num = smooth_gaussian(d, sigma), den = smooth_gaussian(ones, sigma);
      for (std::size_t k = 0; k < n; ++k) d[k] = num[k] / den[k];
    }
    c.dvdq_v_per_mah = std::move(d);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace opsync::correlate
