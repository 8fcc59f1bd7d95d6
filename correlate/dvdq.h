// Differential voltage (dV/dQ) per half-cycle: the voltage against the charge passed, on a uniform
// charge grid, differentiated and smoothed. Where dQ/dV peaks at a plateau, dV/dQ dips; its peaks
// mark the ends of plateaus (phase boundaries), and in a full cell the features of each electrode
// shift with that electrode's capacity, which is why it is read for degradation (Bloom et al.,
// J. Power Sources 139, 295 (2005); Dahn et al., J. Electrochem. Soc. 159, A1405 (2012)).
#pragma once

#include <cstddef>
#include <vector>

#include "correlate/half_cycles.h"

namespace opsync::correlate {

struct DvdqOptions {
  std::size_t grid_points = 1000;  // uniform grid in charge passed over each half-cycle
  double fwhm_fraction = 0.01;     // Gaussian smoothing FWHM, fraction of the half-cycle's charge; 0 = none
  HalfCycleOptions half_cycles{};
};

struct DvdqCurve {
  std::size_t half_cycle = 0;
  Direction direction = Direction::charge;
  std::size_t counter_resets = 0;       // capacity-counter resets bridged (charge_passed_c)
  std::vector<double> charge_mah;       // passed since the half-cycle's start, ascending
  std::vector<double> voltage_v;        // on charge_mah
  std::vector<double> dvdq_v_per_mah;   // negative on discharge (the voltage falls as charge passes)
};

// Throws InputError on a bad record or options; half-cycles with fewer than 3 distinct charge
// values are skipped.
std::vector<DvdqCurve> dvdq(const CyclerRecord& rec, const DvdqOptions& opt = {});

}  // namespace opsync::correlate
