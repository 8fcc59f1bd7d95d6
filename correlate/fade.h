// Voltage fade across cycles: per cycle the charge and discharge capacity, energy, coulombic and
// energy efficiency and mean voltages, and the dQ/dV peaks of each half-cycle tracked from cycle to
// cycle, so that their drift (the voltage decay of Li-rich cathodes) can be plotted.
//
// A cycle is a half-cycle of the direction the record starts with and the half-cycle of the other
// direction after it (charge then discharge for a cathode or full cell starting on charge; a
// record that starts with a discharge pairs each discharge with the charge after it). Coulombic
// efficiency is discharge over charge, energy efficiency discharge energy over charge energy,
// within the cycle, whichever comes first (the cathode and full-cell convention; for an anode
// half-cell, whose first lithiation is the "discharge", read the reciprocal).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "correlate/dqdv.h"
#include "correlate/half_cycles.h"

namespace opsync::correlate {

struct FadeOptions {
  DqdvOptions dqdv{};              // dQ/dV and its peak rule, per half-cycle
  double track_window_v = 0.05;    // a peak joins a track whose last position is within this
};

struct HalfCycleSummary {
  std::size_t half_cycle = 0;      // index among the record's half-cycles
  double capacity_mah = 0;         // charge passed (capacity column with resets bridged, else I dt)
  double energy_mwh = 0;           // trapezoid of V |I| dt
  double mean_voltage_v = 0;       // energy / capacity
  double v_min = 0, v_max = 0;
};

struct CycleSummary {
  std::size_t cycle = 0;           // 0-based
  std::optional<HalfCycleSummary> charge, discharge;
  std::optional<double> coulombic_efficiency, energy_efficiency;  // both half-cycles present
};

// One dQ/dV feature followed across cycles, in one direction.
struct PeakTrack {
  std::size_t id = 0;
  Direction direction = Direction::charge;
  struct Point {
    std::size_t cycle = 0;
    double voltage_v = 0, height = 0, area = 0;  // as DqdvPeak (mAh/V, mAh)
  };
  std::vector<Point> points;       // ascending cycle; a cycle where it was not found is absent
  std::optional<double> drift_v_per_cycle;  // least-squares slope of voltage against cycle, >= 3 points
};

struct FadeResult {
  Direction first = Direction::charge;  // the direction each cycle starts with
  std::vector<CycleSummary> cycles;
  std::vector<PeakTrack> tracks;
  std::vector<DqdvCurve> curves;        // per half-cycle, for the figure
  std::vector<std::size_t> curve_cycle; // the cycle of each curve
};

// Throws InputError on a bad record or options, or when the record has no half-cycle.
FadeResult analyze_fade(const CyclerRecord& rec, const FadeOptions& opt = {});

}  // namespace opsync::correlate
