// Gas onset on one DEMS ion-current channel (e.g. m/z 32 = O2, 44 = CO2), three ways side by side:
//  - threshold: first time the signal stays above baseline + k sigma for hold_s;
//  - CUSUM (Page's one-sided test) in sigma units, a second opinion that adds up small excesses;
//  - extrapolated onset, as thermal analysis defines it (ISO 11357 / ASTM E2550 "extrapolated onset"):
//    a line fitted to the initial rise, intersected with the baseline. It is the headline value:
//    threshold crossings lag behind the true onset by the mixing time of the cell and capillary.
// The baseline is the median of a quiet window and sigma the MAD times 1.4826 (equals the standard
// deviation for Gaussian noise, robust to spikes). Every reported time is corrected for the capillary
// transport delay (transport_delay_s is subtracted). Absolute times stay int64 ns; doubles only hold differences.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace opsync::correlate {

// Baseline value at t: median + slope_per_s * (t - t_ref_ns). With a constant model the slope is 0.
struct Baseline {
  double median = 0;        // at t_ref_ns (the middle of the quiet window)
  double sigma = 0;         // 1.4826 * MAD of the residuals about the baseline
  std::size_t n = 0;        // samples in the quiet window
  double slope_per_s = 0;   // drift: Theil-Sen slope over the quiet window (linear model)
  int64_t t_ref_ns = 0;
  // Standard uncertainties of the level at t_ref (median: 1.2533 sigma/sqrt(n)) and of the slope
  // (sigma/sqrt(0.91 sum (t - t_mean)^2) over the samples the Theil-Sen slope used: the
  // least-squares figure with Theil-Sen's efficiency for Gaussian noise). Extrapolated Δt past the window, the baseline is uncertain by
  // sqrt(level^2 + (slope Δt)^2): after hours that is what makes a drift look like gas.
  double median_sigma = 0;
  double slope_sigma_per_s = 0;
  double at(int64_t t_ns) const { return median + slope_per_s * static_cast<double>(t_ns - t_ref_ns) * 1e-9; }
  double sigma_at(int64_t t_ns) const;
};

enum class BaselineModel { constant, linear };

// Throws InputError if the window holds fewer than min_points samples or its sigma is 0 and
// min_sigma does not lift it (a perfectly flat window gives no noise scale).
// The linear model's slope is the Theil-Sen estimator (median of pairwise slopes; robust to spikes and
// to a few early gas samples), computed on at most 600 evenly spaced samples of the window.
Baseline robust_baseline(std::span<const int64_t> t_ns, std::span<const double> value, int64_t begin_ns,
                         int64_t end_ns, std::size_t min_points = 10, double min_sigma = 0,
                         BaselineModel model = BaselineModel::constant);

struct OnsetOptions {
  int64_t quiet_begin_ns = 0;  // quiet window [begin, end): before any gas evolves
  int64_t quiet_end_ns = 0;
  double k_sigma = 5;          // threshold above the baseline, in sigma
  double hold_s = 60;          // how long the signal must stay above it
  double cusum_drift_sigma = 0.5;      // allowance per sample (Page's k), in sigma
  double cusum_threshold_sigma = 20;   // decision level (Page's h), in sigma-samples
  // The allowance also absorbs this many standard uncertainties of the extrapolated baseline
  // (Baseline::sigma_at): a slope that is off by its own uncertainty adds up, hours past the quiet
  // window, to a steady excess that CUSUM would sum into an early alarm. 0 = the plain test; at 2
  // one run in twenty still alarmed half an hour early on a 10 h record (tests/correlate/onset_test.cpp).
  double cusum_baseline_guard = 3;
  double rise_fraction = 0.3;  // extrapolated onset: fit the rise up to this fraction of the later maximum
  double plateau_window_s = 600;  // the later maximum is taken over this long after the threshold onset
  double transport_delay_s = 0;         // capillary transport delay, subtracted from every onset
  std::size_t min_points = 10;
  double min_sigma = 0;
  // Linear follows a drifting baseline (ion sources and filaments drift ~1 %/h), so that slow drift
  // is not read as gas by CUSUM; constant is the classic median baseline.
  BaselineModel baseline_model = BaselineModel::linear;
};

struct OnsetMethod {
  double k_sigma = 0, hold_s = 0, cusum_drift_sigma = 0, cusum_threshold_sigma = 0, rise_fraction = 0,
         plateau_window_s = 0, transport_delay_s = 0, cusum_baseline_guard = 0;
  int64_t quiet_begin_ns = 0, quiet_end_ns = 0;
  BaselineModel baseline_model = BaselineModel::linear;
};

struct OnsetResult {
  Baseline baseline;
  // Lag-corrected onsets on the reference clock; empty when the method found none (see note).
  std::optional<int64_t> threshold_onset_t_ns;
  std::optional<int64_t> cusum_onset_t_ns;     // change point: last time the sum was zero before the alarm
  std::optional<int64_t> cusum_alarm_t_ns;     // when the sum crossed its decision level (the detection lags)
  std::optional<int64_t> extrapolated_onset_t_ns;
  double rise_slope_per_s = 0;  // slope of the fitted rise (signal units per second)
  // The methods' own standard uncertainties of each onset time, s (NaN when there is no onset):
  // extrapolated from the rise fit and the baseline's level and slope, propagated, and the
  // window spread below; threshold and
  // CUSUM from the sampling interval (uniform, /sqrt 12) and the noise over the rise slope.
  double threshold_onset_sigma_s = 0, cusum_onset_sigma_s = 0, extrapolated_onset_sigma_s = 0;
  // Part of extrapolated_onset_sigma_s: how far the onset moves when the rise is fitted to 2/3 and
  // 4/3 of rise_fraction (rms); a straight rise gives ~0, a bent foot (a mixing volume) more.
  double extrapolated_window_spread_s = 0;
  std::string note;             // why a method gave no onset
  OnsetMethod method;
};

// Throws InputError on missing/short/mismatched input, unordered time, non-finite values or no quiet window.
OnsetResult detect_onset(std::span<const int64_t> t_ns, std::span<const double> value, const OnsetOptions& opt);

// Voltage and charge passed at time t_ns, by linear interpolation of the cycler record.
// Throws InputError if t_ns lies outside the record or the arrays are unusable.
struct CyclerPoint {
  double voltage_v = 0;
  double capacity_c = 0;
};
CyclerPoint cycler_at(std::span<const int64_t> t_ns, std::span<const double> voltage_v,
                      std::span<const double> capacity_c, int64_t at_ns);

}  // namespace opsync::correlate
