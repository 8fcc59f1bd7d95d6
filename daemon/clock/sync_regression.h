// Maps a source's clock (bridge timer ticks, a cycler PC's clock) onto the reference clock from
// request/reply sync exchanges, as chrony and PX4's timesync do: each exchange gives a point
// (source time at the reply, reference time at the midpoint of request and reply) good to half
// its round trip; exchanges with a long round trip are gated out; the rest are fitted by
// weighted least squares (inverse variance) over a sliding window (offset and rate, i.e. drift); outliers are
// dropped; a run of large deviations is taken as a clock step and restarts the fit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "records/records.h"

namespace opsync::clock {

struct SyncExchange {
  int64_t t1_ref_ns = 0;  // reference time the request was sent
  int64_t t4_ref_ns = 0;  // reference time the reply was read
  int64_t t2_src = 0;     // source time the request arrived (source units: ticks, ns, ms...)
  int64_t t3_src = 0;     // source time the reply left (== t2 when the source gives one stamp)
};

struct SyncOptions {
  double nominal_ns_per_unit = 1.0;       // e.g. 1e9 / 168e6 for a 168 MHz timer, 1e6 for ms
  int64_t max_rtt_ns = 10'000'000;        // PX4's MAX_RTT_SAMPLE: longer exchanges carry no timing
  double rtt_gate_sigma = 3.0;            // also drop rtt > min + k * sigma over the window
  size_t window = 128;                    // accepted exchanges kept (12.8 s at 10 Hz)
  double outlier_rms = 4.0;               // drop a point whose residual exceeds k x RMS, refit
  int64_t step_threshold_ns = 100'000'000;  // PX4 MAX_DEVIATION_SAMPLE
  int step_count = 5;                       // consecutive deviations that mean a clock step
  // Source clock resolution (e.g. 1 ms for a tester clock in ms); adds to the point uncertainty.
  double resolution_ns = 0;
};

struct SyncStats {
  uint64_t accepted = 0;
  uint64_t gated = 0;      // rejected for round-trip time
  uint64_t outliers = 0;
  uint64_t steps = 0;      // clock steps detected (fit restarted)
};

class SyncRegression {
 public:
  explicit SyncRegression(SyncOptions options = {});

  // Returns true when the exchange was used (not gated).
  bool add(const SyncExchange& x);
  bool valid() const { return fitted_; }
  // Reference ns of a source time. Requires valid().
  int64_t to_ref_ns(int64_t t_src) const;
  // The model as stored: t_ref = offset_ns + rate * t_src, with residuals and uncertainty.
  records::ClockModel model(int64_t fitted_at_ns) const;
  double drift_ppm() const;  // source frequency error vs nominal, ppm (+ = source runs fast)
  double residual_rms_ns() const { return rms_ns_; }
  double residual_max_ns() const { return max_ns_; }
  size_t points() const { return points_.size(); }
  const SyncStats& stats() const { return stats_; }
  void reset();

 private:
  struct Point {
    int64_t x_src;     // source time at the point
    int64_t y_ref_ns;  // reference time at the point
    int64_t rtt_ns;    // round trip, net of the source's own processing time
  };
  void fit();
  void refine_with_bounds(const std::vector<bool>& use);
  double predict_offset_ns(const Point& p) const;  // residual of p against the current fit

  SyncOptions opt_;
  std::deque<Point> points_;
  SyncStats stats_;
  bool fitted_ = false;
  int64_t x0_ = 0;        // fit centre (newest point's source time)
  int64_t y0_ = 0;        // reference time at x0 (integer part)
  double y0_frac_ = 0;    // fractional ns of the intercept
  double slope_ = 1.0;    // ns per source unit
  double rms_ns_ = 0;
  double max_ns_ = 0;
  double bound_half_width_ns_ = 0;  // half the intercept interval the exchanges allow
  int64_t min_rtt_ns_ = 0;
  int consecutive_deviations_ = 0;
};

}  // namespace opsync::clock
