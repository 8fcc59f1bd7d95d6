// Simulated timer; see sim_tick_clock.h.
#include "host/sim_tick_clock.h"

#include <cmath>

namespace opsync::fw::host {

uint64_t SimTickClock::tick_at(int64_t t_ns) const {
  const long double elapsed_ns = static_cast<long double>(t_ns - opt_.origin_ns);
  const long double device_ns = elapsed_ns * (1.0L + static_cast<long double>(opt_.drift_ppm) * 1e-6L) +
                                static_cast<long double>(opt_.offset_ns);
  const long double ticks = std::floor(device_ns * static_cast<long double>(opt_.tick_hz) / 1e9L);
  const long double total = static_cast<long double>(opt_.tick0) + ticks;
  return total <= 0 ? 0 : static_cast<uint64_t>(total);
}

int64_t SimTickClock::time_of_tick(uint64_t tick) const {
  const long double device_ns =
      (static_cast<long double>(tick) - static_cast<long double>(opt_.tick0)) * 1e9L / static_cast<long double>(opt_.tick_hz);
  const long double elapsed_ns =
      (device_ns - static_cast<long double>(opt_.offset_ns)) / (1.0L + static_cast<long double>(opt_.drift_ppm) * 1e-6L);
  auto t = opt_.origin_ns + static_cast<int64_t>(std::ceil(elapsed_ns));
  // The closed form is within a nanosecond or two; settle it against tick_at itself.
  while (tick_at(t - 1) >= tick) --t;
  while (tick_at(t) < tick) ++t;
  return t;
}

}  // namespace opsync::fw::host
