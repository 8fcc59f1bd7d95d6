// Reference clocks: real clock tracks CLOCK_REALTIME at start, simulation clock scales.
#include "clock/clock.h"

#include <chrono>
#include <gtest/gtest.h>
#include <thread>

namespace opsync::clock {
namespace {

TEST(Clock, RealClockStartsAtRealtimeAndAdvancesMonotonically) {
  RealClock c;
  const int64_t a = c.now_ns();
  EXPECT_LT(std::llabs(a - realtime_now_ns()), 50'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int64_t b = c.now_ns();
  EXPECT_GE(b - a, 19'000'000);
  EXPECT_LT(b - a, 500'000'000);
}

TEST(Clock, FakeClockIsWhatTheTestSays) {
  FakeClock c(100);
  c.advance(50);
  EXPECT_EQ(c.now_ns(), 150);
  c.set(7);
  EXPECT_EQ(c.now_ns(), 7);
}

TEST(Clock, SimClockRunsAtItsSpeedFromASharedAnchor) {
  const int64_t anchor = monotonic_now_ns();
  SimClock c(1'000'000'000'000, anchor, 600.0);
  SimClock other(1'000'000'000'000, anchor, 600.0);  // another process with the same anchor
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int64_t t = c.now_ns();
  const int64_t elapsed_mono = monotonic_now_ns() - anchor;
  EXPECT_NEAR(static_cast<double>(t - 1'000'000'000'000), 600.0 * static_cast<double>(elapsed_mono), 600.0 * 2e6);
  EXPECT_LT(std::llabs(other.now_ns() - t), 600 * 2'000'000);
  EXPECT_EQ(c.to_monotonic_duration_ns(600'000'000), 1'000'000);
}

}  // namespace
}  // namespace opsync::clock
