// The spherical-diffusion fit behind D_fit (see gitt.h): one pulse, the rest after it, and the tail
// of the rest before it, with the relaxation of earlier pulses superposed.
#pragma once

#include <vector>

namespace opsync::correlate {

// A current step of the history, relative to the fitted pulse: times in seconds since its start,
// weight = its current / the fitted pulse's current.
struct FitStep {
  double t_on_s = 0, t_off_s = 0;
  double weight = 1;
};

struct SphereFitInput {
  double tau_s = 0;                       // the fitted pulse runs over [0, tau_s]
  std::vector<double> pulse_t_s, pulse_v; // rows with the current on (offset a1 = a0 + I R)
  std::vector<double> rest_t_s, rest_v;   // rows at rest, before (t < 0) and after (offset a0)
  std::vector<FitStep> history;           // earlier pulses still relaxing
  bool quadratic_ocv = true;              // E = a + k G + q G^2: the OCV's curvature over the pulse
};

struct SphereFit {
  double th_tau = 0;        // D tau / a^2 at the optimum; NaN when at the edge of the range
  double rel_sigma = 0;     // standard uncertainty of D over D, from the profile's curvature
  double rms_v = 0;         // residual RMS at the optimum
};

SphereFit fit_sphere(const SphereFitInput& in);

}  // namespace opsync::correlate
