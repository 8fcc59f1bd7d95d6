// Real, fake and simulation reference clocks.
#include "clock/clock.h"

#include <cmath>
#include <ctime>

namespace opsync::clock {

namespace {
int64_t read(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

int64_t monotonic_now_ns() { return read(CLOCK_MONOTONIC); }
int64_t realtime_now_ns() { return read(CLOCK_REALTIME); }

RealClock::RealClock() : realtime_at_start_ns_(realtime_now_ns()), monotonic_at_start_ns_(monotonic_now_ns()) {}

int64_t RealClock::now_ns() const { return realtime_at_start_ns_ + (monotonic_now_ns() - monotonic_at_start_ns_); }

SimClock::SimClock(int64_t epoch_ns, int64_t anchor_monotonic_ns, double speed)
    : epoch_ns_(epoch_ns), anchor_ns_(anchor_monotonic_ns), speed_(speed > 0 ? speed : 1.0) {}

int64_t SimClock::now_ns() const {
  const int64_t elapsed = monotonic_now_ns() - anchor_ns_;
  // Integer part exact, fraction in double: no drift of the scaled clock over days.
  const auto whole = static_cast<int64_t>(speed_);
  const double frac = speed_ - static_cast<double>(whole);
  return epoch_ns_ + elapsed * whole + std::llround(static_cast<double>(elapsed) * frac);
}

int64_t SimClock::to_monotonic_duration_ns(int64_t ref_ns) const {
  return std::llround(static_cast<double>(ref_ns) / speed_);
}

}  // namespace opsync::clock
