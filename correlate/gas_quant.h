// Gas quantities from a DEMS ion current, the way DEMS papers report them: a sensitivity per m/z
// (A per mol/s) from a calibration, then the molar rate, the moles per half-cycle and per cycle,
// and the electrons passed per molecule released (Baltruschat, J. Am. Soc. Mass Spectrom. 15,
// 1693 (2004): K* = I_ion / (dn/dt); Faraday: dn/dt = I / (z F)).
//
// Two calibrations:
//  - a calibration gas at a known molar flow over an interval: S = mean excess ion current / flow;
//  - an electrochemical reference over an interval where the cell current makes the gas with a known
//    number z of electrons per molecule: S = integral of the excess ion current (shifted by the
//    transport delay, with a tail for the mixing volume to empty) / (charge / (z F)).
// Times on the MS clock are shifted by the transport delay to the cell's; absolute times stay
// int64 ns.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "correlate/half_cycles.h"
#include "correlate/onset.h"

namespace opsync::correlate {

inline constexpr double kFaradayCPerMol = 96485.33212;

struct Sensitivity {
  double a_per_mol_s = 0;  // ion current per molar flow
  double sigma = 0;        // its standard uncertainty
  std::string method;      // "calibration gas" or "faraday"
  double amount_mol = 0;   // the gas the calibration saw (flow x duration, or Q/(zF))
  double excess_a_s = 0;   // its integrated excess ion current (A s)
};

struct Window {
  int64_t begin_ns = 0, end_ns = 0;  // [begin, end)
};

// The MS channel's baseline comes from `quiet` (robust_baseline, linear drift). flow_sigma may be 0.
Sensitivity sensitivity_from_flow(std::span<const int64_t> t_ns, std::span<const double> ion_a, Window quiet,
                                  Window gas_on, double flow_mol_s, double flow_sigma_mol_s);

// `reference` is on the cell's clock; the ion current is integrated over [begin, end + tail_s)
// shifted by delay_s.
Sensitivity sensitivity_from_faraday(std::span<const int64_t> ms_t_ns, std::span<const double> ion_a, Window quiet,
                                     const CyclerRecord& cell, Window reference, double electrons_per_molecule,
                                     double delay_s, double tail_s);

struct GasHalfCycle {
  std::size_t half_cycle = 0;
  Direction direction = Direction::charge;
  int64_t begin_ns = 0, end_ns = 0;
  double charge_c = 0;        // |I| dt over the half-cycle
  double amount_mol = 0;      // gas released during it (cell clock)
  double amount_sigma_mol = 0;  // from the sensitivity's uncertainty
};

struct GasAmounts {
  std::vector<GasHalfCycle> half_cycles;
  // Over the release window: from the onset (cell clock) to the end of its half-cycle.
  std::optional<double> release_charge_c, release_amount_mol, electrons_per_molecule;
};

// The molar rate at cell time t: (ion current at t + delay - baseline) / S.
std::vector<double> molar_rate_mol_s(std::span<const double> ion_a, std::span<const int64_t> t_ns,
                                     const Baseline& baseline, double sensitivity_a_per_mol_s);

GasAmounts gas_amounts(std::span<const int64_t> ms_t_ns, std::span<const double> ion_a, const Baseline& baseline,
                       const Sensitivity& s, double delay_s, const CyclerRecord& cell,
                       std::optional<int64_t> onset_cell_ns, const HalfCycleOptions& hc = {});

}  // namespace opsync::correlate
