// Edge qualification (enabled inputs, polarity, debounce, holdoff, running) and the edge ring:
// ring overflow is counted, leaves a gap in seq, and the core reports it as Error RING_OVERFLOW.
// Also the ring itself with a real producer thread and consumer thread.
#include "core/edge_capture.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/bridge_core.h"
#include "core/spsc_ring.h"
#include "drivers/bridge/bridge_codec.h"
#include "daemon/drivers/bridge/fake_host.h"
#include "fake_port.h"

namespace opsync::fw {
namespace {

using testing::FakePort;

constexpr uint32_t kTickHz = 1'000'000;  // 1 tick = 1 us: debounce and holdoff in ticks read as us

struct Rig {
  FakePort port;
  TickCounter ticks{port};
  EdgeCapture edges{port, ticks, kTickHz};

  Rig() {
    port.count = 1000;
    edges.set_running(true);
  }
  // A transition on input at now + dt_us.
  void edge_after(uint64_t dt_us, uint8_t input, EdgeKind kind) {
    port.advance(dt_us);
    edges.on_capture(RawCapture{input, port.count, kind});
  }
  std::vector<EdgeRecord> drain() {
    std::vector<EdgeRecord> out;
    EdgeRecord e;
    while (edges.pop(&e)) out.push_back(e);
    return out;
  }
};

TEST(FwEdgeCapture, PolarityAndEnabledInputs) {
  Rig r;
  CaptureConfig c;
  c.inputs_enabled_mask = 0b1011;  // input 2 off
  c.polarity[0] = Polarity::rising;
  c.polarity[1] = Polarity::falling;
  c.polarity[2] = Polarity::both;
  c.polarity[3] = Polarity::unspecified;  // treated as rising
  r.edges.configure(c);
  EXPECT_EQ(r.port.enabled_mask, 0b1011u);
  for (uint8_t input = 0; input < 4; ++input) {
    r.edge_after(10, input, EdgeKind::rising);
    r.edge_after(10, input, EdgeKind::falling);
  }
  r.edge_after(10, 7, EdgeKind::rising);  // no such input
  const auto got = r.drain();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].input, 0);
  EXPECT_EQ(got[0].kind, EdgeKind::rising);
  EXPECT_EQ(got[1].input, 1);
  EXPECT_EQ(got[1].kind, EdgeKind::falling);
  EXPECT_EQ(got[2].input, 3);
  EXPECT_EQ(got[2].kind, EdgeKind::rising);
  for (uint32_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].seq, i);
  EXPECT_EQ(r.edges.counters().edges_seen, 3u);
}

TEST(FwEdgeCapture, NothingWhileStoppedAndStartStopStart) {
  Rig r;
  r.edges.set_running(false);
  r.edge_after(5, 0, EdgeKind::rising);
  EXPECT_TRUE(r.drain().empty());
  r.edges.set_running(true);
  r.edge_after(5, 0, EdgeKind::rising);
  r.edges.set_running(false);
  r.edge_after(5, 0, EdgeKind::rising);
  r.edges.set_running(true);
  r.edge_after(5, 0, EdgeKind::rising);
  const auto got = r.drain();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].seq, 0u);
  EXPECT_EQ(got[1].seq, 1u);
}

TEST(FwEdgeCapture, HoldoffIgnoresEdgesTooSoonOnTheSameInput) {
  Rig r;
  CaptureConfig c;
  c.holdoff_us = 100;
  r.edges.configure(c);
  const uint64_t t0 = r.ticks.now();
  r.edge_after(0, 0, EdgeKind::rising);    // t0: edge
  r.edge_after(50, 1, EdgeKind::rising);   // other input: edge
  r.edge_after(49, 0, EdgeKind::rising);   // t0 + 99: held off
  r.edge_after(1, 0, EdgeKind::rising);    // t0 + 100: edge (holdoff is from the last edge)
  r.edge_after(99, 0, EdgeKind::rising);   // t0 + 199: held off
  const auto got = r.drain();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].tick, t0);
  EXPECT_EQ(got[1].input, 1);
  EXPECT_EQ(got[2].tick, t0 + 100);
}

TEST(FwEdgeCapture, DebounceKeepsTheLevelThatHeldStampedWhereItBegan) {
  Rig r;
  CaptureConfig c;
  c.debounce_us = 200;
  r.edges.configure(c);
  // A bouncing contact: rise, fall 3 us later, rise 4 us later, then it holds.
  r.edge_after(10, 0, EdgeKind::rising);
  r.edge_after(3, 0, EdgeKind::falling);
  r.edge_after(4, 0, EdgeKind::rising);
  const uint64_t held_from = r.ticks.now();
  r.port.advance(150);
  r.edges.expire_debounce();
  EXPECT_TRUE(r.drain().empty()) << "not held for 200 us yet";
  r.port.advance(50);
  r.edges.expire_debounce();
  auto got = r.drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tick, held_from);
  EXPECT_EQ(got[0].kind, EdgeKind::rising);

  // A 20 us glitch low and back: neither transition is an edge.
  r.edge_after(1000, 0, EdgeKind::falling);
  r.edge_after(20, 0, EdgeKind::rising);
  r.port.advance(1000);
  r.edges.expire_debounce();
  EXPECT_TRUE(r.drain().empty());

  // A falling edge that holds is confirmed by the next transition (no expiry call needed).
  r.edge_after(10, 0, EdgeKind::falling);
  const uint64_t fell = r.ticks.now();
  r.edge_after(300, 0, EdgeKind::rising);
  got = r.drain();
  ASSERT_EQ(got.size(), 0u) << "rising-only input: the falling edge is qualified but filtered";
  c.polarity[0] = Polarity::both;
  r.edges.configure(c);
  r.edge_after(10, 0, EdgeKind::falling);
  const uint64_t fell2 = r.ticks.now();
  r.edge_after(300, 0, EdgeKind::rising);
  got = r.drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tick, fell2);
  EXPECT_EQ(got[0].kind, EdgeKind::falling);
  (void)fell;
}

TEST(FwEdgeCapture, RingOverflowIsCountedAndLeavesAGapInSeq) {
  Rig r;
  const uint32_t n = kEdgeRingCapacity + 10;
  for (uint32_t i = 0; i < n; ++i) r.edge_after(10, 0, EdgeKind::rising);
  EXPECT_EQ(r.edges.queued(), kEdgeRingCapacity);
  EdgeCounters c = r.edges.counters();
  EXPECT_EQ(c.edges_seen, n);
  EXPECT_EQ(c.edges_dropped, 10u);
  // The ring keeps the oldest; the dropped ones are the last ten numbers.
  auto got = r.drain();
  ASSERT_EQ(got.size(), kEdgeRingCapacity);
  for (uint32_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].seq, i);
  // Room again: the next edge carries seq n, so the host sees the gap n-10 .. n-1.
  r.edge_after(10, 0, EdgeKind::rising);
  got = r.drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].seq, n);
  // ResetCounters: both counters zero and seq restarts.
  r.edges.reset_counters();
  c = r.edges.counters();
  EXPECT_EQ(c.edges_seen, 0u);
  EXPECT_EQ(c.edges_dropped, 0u);
  r.edge_after(10, 0, EdgeKind::rising);
  got = r.drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].seq, 0u);
}

// The whole path: a stalled UART fills the ring; what reaches the host is every edge up to the
// ring's size, then the gap, an Error RING_OVERFLOW with the count, and heartbeats that say it.
TEST(FwEdgeCapture, CoreReportsRingOverflowToTheHost) {
  FakePort port;
  CoreOptions o;
  o.tick_hz = kTickHz;
  BridgeCore core(port, o);
  core.start();
  core.edges().set_running(true);
  port.tx_room = 0;  // UART stalled
  core.poll();
  const uint32_t n = kEdgeRingCapacity + 25;
  for (uint32_t i = 0; i < n; ++i) {
    port.advance(100);
    port.latch(1, EdgeKind::rising);
    core.timer_isr();
  }
  port.tx_room = SIZE_MAX;
  port.advance(2'000'000);  // past a heartbeat
  core.poll();
  const std::vector<drivers::bridge::Envelope> frames = drivers::bridge::testing::decode_frames(port.tx);
  std::vector<uint32_t> seqs;
  int overflow_errors = 0;
  uint32_t heartbeat_dropped = 0;
  for (const auto& f : frames) {
    if (f.has_edge()) seqs.push_back(f.edge().seq());
    if (f.has_error() && f.error().code() == drivers::bridge::ERROR_CODE_RING_OVERFLOW) {
      ++overflow_errors;
      EXPECT_EQ(f.error().detail(), "25 edges dropped: edge ring full");
    }
    if (f.has_heartbeat()) heartbeat_dropped = f.heartbeat().counters().edges_dropped();
  }
  EXPECT_EQ(overflow_errors, 1);
  EXPECT_EQ(heartbeat_dropped, 25u);
  ASSERT_EQ(seqs.size(), kEdgeRingCapacity);
  EXPECT_EQ(seqs.back(), kEdgeRingCapacity - 1);
  // Next edge after the drain: seq jumps by the drops.
  port.tx.clear();
  port.advance(100);
  port.latch(1, EdgeKind::rising);
  core.timer_isr();
  core.poll();
  const auto more = drivers::bridge::testing::decode_frames(port.tx);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].edge().seq(), n);
  EXPECT_EQ(core.counters().edges_dropped, 25u);
}

TEST(FwSpscRing, FullEmptyAndOrder) {
  SpscRing<uint32_t, 4> ring;
  uint32_t v = 0;
  EXPECT_FALSE(ring.pop(&v));
  for (uint32_t i = 0; i < 4; ++i) EXPECT_TRUE(ring.push(i));
  EXPECT_FALSE(ring.push(99));
  EXPECT_EQ(ring.size(), 4u);
  for (uint32_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.pop(&v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(ring.pop(&v));
  // Indices keep running past the capacity.
  for (uint32_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(ring.push(i));
    ASSERT_TRUE(ring.pop(&v));
    ASSERT_EQ(v, i);
  }
}

TEST(FwSpscRing, ProducerAndConsumerThreadsLoseNothingAndKeepOrder) {
  // Threads stand in for the interrupt and the main loop (stronger: they truly run at once).
  SpscRing<EdgeRecord, 64> ring;
  constexpr uint32_t kCount = 300'000;
  std::atomic<uint32_t> full{0};
  std::thread producer([&] {
    for (uint32_t i = 0; i < kCount;) {
      if (ring.push(EdgeRecord{i, static_cast<uint8_t>(i % 4), EdgeKind::rising, uint64_t{i} * 3})) {
        ++i;
      } else {
        full.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::yield();  // two cores shared with builds: do not starve the consumer
      }
    }
  });
  uint32_t expect = 0;
  EdgeRecord e;
  while (expect < kCount) {
    if (!ring.pop(&e)) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_EQ(e.seq, expect);
    ASSERT_EQ(e.tick, uint64_t{expect} * 3);
    ++expect;
  }
  producer.join();
  EXPECT_FALSE(ring.pop(&e));
  std::printf("[ spsc     ] %u records through a 64-slot ring, producer found it full %u times\n", kCount, full.load());
}

}  // namespace
}  // namespace opsync::fw
