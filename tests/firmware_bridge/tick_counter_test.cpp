// 64-bit tick extension across wraps of the 32-bit timer, including the classic race: a capture
// latched just before the wrap, served when the counter has wrapped and the overflow flag is
// pending (and the mirror cases). Then a randomized run against a true 64-bit count, with the
// overflow interrupt served early, late, before or after the captures.
#include "core/tick_counter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "core/bridge_core.h"
#include "fake_port.h"

namespace opsync::fw {
namespace {

using testing::FakePort;

constexpr uint64_t k2to32 = uint64_t{1} << 32;

TEST(FwTickCounter, CountsWrapsIntoTheHighWord) {
  FakePort port;
  TickCounter ticks(port);
  port.count = 1000;
  EXPECT_EQ(ticks.now(), 1000u);
  port.advance(k2to32 - 1000);  // exactly to the wrap
  EXPECT_TRUE(port.overflow_flag);
  EXPECT_EQ(ticks.now(), k2to32);  // wrapped, interrupt not served yet: still right
  ticks.on_overflow();
  EXPECT_FALSE(port.overflow_flag);
  EXPECT_EQ(ticks.now(), k2to32);
  port.advance(5 * k2to32 / 2);  // hardware sets one flag however many wraps: serve each in time
  ticks.on_overflow();
  ticks.on_overflow();
  EXPECT_EQ(ticks.now(), k2to32 + 5 * k2to32 / 2);
  EXPECT_EQ(port.timer_reads_outside_critical, 0) << "counter and high word must be read together";
}

TEST(FwTickCounter, StartsFromAGivenHighWord) {
  FakePort port;
  port.count = 7;
  TickCounter ticks(port, 3);
  EXPECT_EQ(ticks.now(), 3 * k2to32 + 7);
}

// The race of the issue: capture latched at 0xFFFFFFF0, then the counter wrapped to 5 and the
// overflow flag is pending when the interrupt reads the capture.
TEST(FwTickCounter, CaptureJustBeforeTheWrapWithTheOverflowPending) {
  FakePort port;
  TickCounter ticks(port, 41);
  port.count = 0xFFFFFFF0u;
  port.latch(0, EdgeKind::rising);
  port.advance(0x15);  // wraps to 5
  ASSERT_TRUE(port.overflow_flag);
  ASSERT_EQ(port.count, 5u);
  const uint64_t expect = 41 * k2to32 + 0xFFFFFFF0u;
  // Capture served first, flag still pending (the naive high:capture would be right here, but
  // a naive "overflow pending -> high + 1" would be 2^32 too late).
  EXPECT_EQ(ticks.extend(port.captures.front().count), expect);
  // Overflow served first, then the capture (naive high:capture is 2^32 too late here).
  ticks.on_overflow();
  EXPECT_EQ(ticks.extend(port.captures.front().count), expect);
}

TEST(FwTickCounter, CaptureJustAfterTheWrapWithTheOverflowPending) {
  FakePort port;
  TickCounter ticks(port, 41);
  port.count = 0xFFFFFFFEu;
  port.advance(3);  // wraps to 1
  port.latch(2, EdgeKind::falling);
  port.advance(4);
  ASSERT_TRUE(port.overflow_flag);
  const uint64_t expect = 42 * k2to32 + 1;
  // Flag pending, high word not bumped yet: naive high:capture is 2^32 too early.
  EXPECT_EQ(ticks.extend(port.captures.front().count), expect);
  ticks.on_overflow();
  EXPECT_EQ(ticks.extend(port.captures.front().count), expect);
}

TEST(FwTickCounter, CaptureAtExactlyZeroAndAtTheLastCount) {
  FakePort port;
  TickCounter ticks(port);
  port.count = 0xFFFFFFFFu;
  const uint32_t last = port.count;
  port.advance(1);
  const uint32_t zero = port.count;
  port.advance(100);
  EXPECT_EQ(ticks.extend(last), k2to32 - 1);
  EXPECT_EQ(ticks.extend(zero), k2to32);
  ticks.on_overflow();
  EXPECT_EQ(ticks.extend(last), k2to32 - 1);
  EXPECT_EQ(ticks.extend(zero), k2to32);
}

// Through the core's interrupt entry: the capture and the overflow flag pending together, in
// the order the hardware presents them.
TEST(FwTickCounter, CoreInterruptWithCaptureAndOverflowPendingTogether) {
  FakePort port;
  CoreOptions o;
  BridgeCore core(port, o);
  core.start();
  port.rx.clear();
  CaptureConfig all;
  all.polarity[0] = Polarity::both;
  core.edges().configure(all);
  core.edges().set_running(true);
  port.count = 0xFFFFFFFAu;
  port.latch(0, EdgeKind::rising);  // before the wrap
  port.advance(10);                 // wrap, count 4
  port.latch(0, EdgeKind::falling); // after the wrap
  port.advance(3);
  core.timer_isr();
  EXPECT_FALSE(port.overflow_flag);
  EdgeRecord a, b;
  ASSERT_TRUE(core.edges().pop(&a));
  ASSERT_TRUE(core.edges().pop(&b));
  EXPECT_EQ(a.tick, 0xFFFFFFFAu);
  EXPECT_EQ(b.tick, k2to32 + 4);
  EXPECT_EQ(core.now_tick(), k2to32 + 7);
}

// A free-running timer with wraps and captures at random; the interrupt is served after a
// random latency (up to a quarter period), serving the captures and the overflow in a random
// order. Every capture must come out as the true 64-bit count.
TEST(FwTickCounter, RandomisedAgainstATrue64BitCount) {
  std::mt19937_64 rng(77);
  for (int run = 0; run < 20; ++run) {
    FakePort port;
    uint64_t true_tick = rng() % k2to32;
    port.count = static_cast<uint32_t>(true_tick);
    TickCounter ticks(port);
    uint64_t high_base = true_tick & ~(k2to32 - 1);  // 0 here: the counter starts in the first period
    ASSERT_EQ(high_base, 0u);
    for (int step = 0; step < 5000; ++step) {
      // Most steps land near a wrap, where the race lives.
      const uint64_t to_wrap = k2to32 - (true_tick % k2to32);
      const uint64_t dt = rng() % 3 == 0 ? to_wrap - std::min<uint64_t>(to_wrap, rng() % 64) : rng() % (k2to32 / 4);
      true_tick += dt;
      port.advance(dt);
      const uint64_t latched = true_tick;
      port.latch(0, EdgeKind::rising);
      const uint64_t latency = rng() % 4 == 0 ? rng() % 128 : rng() % (k2to32 / 4);
      true_tick += latency;
      port.advance(latency);
      const bool overflow_first = rng() % 2 == 0;
      if (overflow_first && port.overflow_flag) ticks.on_overflow();
      ASSERT_EQ(ticks.extend(port.captures.front().count), latched) << "run " << run << " step " << step;
      port.captures.pop_front();
      if (port.overflow_flag) ticks.on_overflow();
      ASSERT_EQ(ticks.now(), true_tick);
    }
  }
}

}  // namespace
}  // namespace opsync::fw
