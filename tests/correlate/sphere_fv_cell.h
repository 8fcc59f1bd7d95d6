// A GITT cell for tests, written apart from correlate/gitt.cpp and sharing nothing with it: Fick's
// law in one spherical particle by finite volumes, with a diffusion coefficient that depends on the
// local composition and a nonlinear open-circuit voltage of the surface composition. The analysis
// fits Crank's constant-D, linear-OCV series; this model makes neither assumption, so agreement is
// evidence, not an identity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "correlate/half_cycles.h"

namespace opsync::correlate::testing {

// The particle and the cell. x is the fraction of the capacity removed (0 = lithiated; a charge
// current raises it). D falls from d1 to d2 across boundary_x (logistic in log D), as at the
// stage-1 / stage-2 boundary of a Li-rich cathode; the OCV's slope falls there too, and both
// stages carry curvature.
struct FvCell {
  double radius_cm = 1.5e-5;  // 150 nm
  double d1_cm2_s = 3e-14;
  double d2_cm2_s = 3e-15;
  double boundary_x = 0.40;
  double boundary_width_x = 0.004;
  double capacity_c = 1.0;       // charge that takes the particle (the electrode) from x = 0 to 1
  double resistance_ohm = 2.0;   // ohmic drop I R, instantaneous
  double ocv0_v = 3.70;
  double slope1_v = 0.80;        // dU/dx in stage 1 at x = 0 ...
  double curvature1_v = 0.60;    // ... rising by this per unit x
  double slope2_v = 0.094;       // dU/dx in stage 2 at the boundary ...
  double curvature2_v = 0.10;    // ... rising by this per unit x past it

  double d_cm2_s(double x) const;
  double ocv_v(double x) const;
  double docv_dx_v(double x) const;  // numerical, for the truth of each pulse
};

// A GITT run: pulses of current_a (charge > 0) for pulse_s, each followed by rest_s, sampled every
// pulse_dt_s during pulses and rest_dt_s during rests. The first row of a pulse is at its start
// with the current on (the ohmic step, no diffusion yet); the last at its end; rest rows follow at
// rest_dt_s. Voltage noise is Gaussian (seeded), then rounded to quantum_v (a file's last digit).
struct FvProtocol {
  double x_start = 0.05;
  double initial_rest_s = 3600;
  double current_a = 1e-3;
  double pulse_s = 600;
  double rest_s = 3 * 3600;
  int pulses = 20;
  double pulse_dt_s = 1;
  double rest_dt_s = 10;
  double noise_v = 0;
  double quantum_v = 0;
  uint64_t seed = 1;
};

// What the model knows about each pulse, for judging what the analysis recovers.
struct FvPulseTruth {
  std::size_t begin = 0, end = 0;   // pulse rows
  double x_before = 0, x_after = 0; // particle-average composition
  double x_surface_max = 0;         // extreme surface composition reached during the pulse
  double d_mid_cm2_s = 0;           // D at the mid composition: the D a GITT pulse should report
  double d_spread = 0;              // max/min of D over the compositions the pulse visited, minus 1
  double ocv_slope_v = 0;           // dU/dx at the mid composition
};

struct FvRun {
  CyclerRecord rec;
  std::vector<FvPulseTruth> pulses;
};

// The surface composition after holding a constant current from rest for duration_s, with the
// shells and time steps of the model (for checking the model against Crank's series).
double fv_surface_after_constant_flux(const FvCell& cell, double x0, double current_a, double duration_s);

FvRun simulate_fv_gitt(const FvCell& cell, const FvProtocol& protocol);

}  // namespace opsync::correlate::testing
