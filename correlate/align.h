// Strain against gas: where the per-scan lattice strain turns over, and how that lines up with the
// gas onsets. In a Li-rich cathode the strain built up through the first charge relaxes when the
// lattice oxygen starts to leave, so the turnover voltage and the O2/CO2 onset voltages are the
// figure an operando paper reports; the lag between the strain relaxation rate and the gas signal
// is the second, model-free view of the same alignment.
//
// The turnover is found by a local fit, not by picking the highest scan: two polynomial segments
// (quadratic by default, or straight lines) joined continuously at a breakpoint, fitted by least
// squares to the scans around the extreme, in time; the breakpoint is the turnover. Its uncertainty
// is the profile-likelihood interval of the breakpoint (SSE(t_b) - SSE_min <= sigma^2, sigma^2 =
// SSE_min / (n - p - 1) with p segment coefficients: the 68 % interval for one parameter with
// Gaussian residuals), carried to voltage through the cycler record. Fitting in time keeps the
// fit well posed on a voltage plateau, where several scans share nearly one voltage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace opsync::correlate {

enum class Extremum { max, min };

struct TurnoverOptions {
  Extremum extremum = Extremum::max;  // tensile strain peaks (max); compressive would dip (min)
  std::size_t half_window_scans = 6;  // scans taken on each side of the extreme scan for the fit
  // Degree of the two segments joined at the breakpoint: 2 follows a curved rise and an
  // exponential-like relaxation without the bias straight lines get from them; 1 is the classic hinge.
  int segment_order = 2;
  std::size_t grid_points = 4000;     // breakpoint candidates between the outer fitted scans
};

struct Turnover {
  int64_t t_ns = 0;                // breakpoint of the hinge fit (reference clock)
  int64_t t_lo_ns = 0, t_hi_ns = 0;  // 68 % profile-likelihood interval
  double voltage_v = 0;            // cell voltage at t_ns
  double uncertainty_v = 0;        // half-width of the interval mapped to voltage (larger side)
  double value_at_turnover = 0;    // fitted strain at the breakpoint
  double slope_before_per_s = 0;   // strain per second before and after the breakpoint
  double slope_after_per_s = 0;
  double residual_rms = 0;
  std::size_t n_scans = 0;         // scans in the fit
  std::size_t extreme_scan = 0;    // index (into the input) of the highest (lowest) scan
  std::string note;                // e.g. the extreme is at the edge of the record
};

// mid_t_ns: scan mid-times ascending; value: per-scan strain. cycler_t_ns/voltage_v map time to
// voltage. Throws InputError for fewer than 5 usable scans, unordered times, non-finite values or
// scans outside the cycler record, and when the extreme sits at either end (no turnover to fit).
Turnover strain_turnover(std::span<const int64_t> mid_t_ns, std::span<const double> value,
                         std::span<const int64_t> cycler_t_ns, std::span<const double> voltage_v,
                         const TurnoverOptions& opt = {});

struct LagOptions {
  double grid_dt_s = 0;    // resampling step; 0 = a quarter of the median scan spacing
  double max_lag_s = 3600; // lags searched within +-max_lag_s
  double transport_delay_s = 0;     // capillary delay subtracted from the gas times first
};

struct LagResult {
  double lag_s = 0;          // > 0: the gas follows the strain relaxation by lag_s
  double correlation = 0;    // normalised cross-correlation at the lag (-1..1)
  double grid_dt_s = 0;
  std::size_t n_grid = 0;
};

// Cross-correlation, by FFT (FFTW3), of the strain relaxation rate -d(strain)/dt (finite
// differences between consecutive scans; for Extremum::min the sign is flipped) with the gas
// signal, both resampled onto one uniform grid over their common span, mean removed and scaled
// to unit variance. The lag of the largest correlation is refined by a parabola through its
// neighbours. Throws InputError when the two do not overlap by at least 8 grid steps.
LagResult strain_gas_lag(std::span<const int64_t> mid_t_ns, std::span<const double> value,
                         std::span<const int64_t> gas_t_ns, std::span<const double> gas_value,
                         const LagOptions& opt = {}, Extremum extremum = Extremum::max);

// Cross-correlation c[k] = sum_i x[i] y[i + k] for k = -(x.size()-1) .. y.size()-1, by FFT.
// Index 0 of the result is k = -(x.size()-1).
std::vector<double> cross_correlate_fft(std::span<const double> x, std::span<const double> y);

}  // namespace opsync::correlate
