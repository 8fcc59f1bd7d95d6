// The host build's stand-in for the board's crystal and timer: a 64-bit tick count as a function
// of reference time, with an offset (how long the timer had been counting) and a drift.
//
//   tick(t) = tick0 + floor(((t - origin_ns) x (1 + drift_ppm x 1e-6) + offset_ns) x tick_hz / 1e9)
//
// the same model as the daemon's simulated bridge (drivers/bridge/bridge_sim.h), computed in
// long double so that it is exact to the tick for weeks of elapsed time.
#pragma once

#include <cstdint>

namespace opsync::fw::host {

struct SimTickOptions {
  uint32_t tick_hz = 168'000'000;
  double drift_ppm = 0;   // + = the device's crystal runs fast
  int64_t offset_ns = 0;  // device time counted before origin_ns (device powered on earlier)
  uint64_t tick0 = 0;     // counter at origin before the offset
  int64_t origin_ns = 0;  // reference time
};

class SimTickClock {
 public:
  explicit SimTickClock(const SimTickOptions& options) : opt_(options) {}
  // 0 before the timer started.
  uint64_t tick_at(int64_t t_ns) const;
  // The first reference ns at which tick_at() reaches `tick`.
  int64_t time_of_tick(uint64_t tick) const;
  const SimTickOptions& options() const { return opt_; }

 private:
  SimTickOptions opt_;
};

}  // namespace opsync::fw::host
