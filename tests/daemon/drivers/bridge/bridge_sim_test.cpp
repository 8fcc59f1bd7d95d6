// BridgeSimulator on its own: its clock against the formula it documents, its replies, edges,
// heartbeats, configuration and injected faults, read back through the frame decoder.
#include "drivers/bridge/bridge_sim.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "drivers/bridge/bridge_codec.h"
#include "fake_host.h"

namespace opsync::drivers::bridge {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

BridgeSimOptions options() {
  BridgeSimOptions o;
  o.tick_hz = 168'000'000;
  o.drift_ppm = 80;
  o.offset_ns = 2'500'000;
  o.tick0 = 4'000'000'000;  // near the 32-bit wrap: the protocol carries 64 bits
  o.origin_ns = kT0;
  return o;
}

// The documented clock: tick0 + (elapsed x (1 + ppm x 1e-6) + offset) x tick_hz / 1e9.
double expected_tick(const BridgeSimOptions& o, int64_t t_ns, int64_t extra_offset_ns = 0) {
  const double elapsed = static_cast<double>(t_ns - kT0);
  return static_cast<double>(o.tick0) +
         (elapsed * (1 + o.drift_ppm * 1e-6) + static_cast<double>(o.offset_ns + extra_offset_ns)) * o.tick_hz / 1e9;
}

Bytes frame_of(const Envelope& e) { return encode_envelope_frame(e); }

Envelope start_msg() {
  Envelope e;
  e.mutable_start();
  return e;
}

TEST(BridgeSim, ClockFollowsTheDocumentedFormula) {
  const BridgeSimOptions o = options();
  BridgeSimulator sim(o);
  for (int64_t t : {kT0, kT0 + 1, kT0 + 123'456'789, kT0 + 3600 * kS}) {
    EXPECT_NEAR(static_cast<double>(sim.tick_at(t)), expected_tick(o, t), 1.0) << t - kT0;
  }
  EXPECT_GT(sim.tick_at(kT0 + 3600 * kS), 0xFFFFFFFFull);
}

TEST(BridgeSim, HelloOnConnectAndHeartbeatEverySecond) {
  BridgeSimulator sim(options());
  sim.on_connect(kT0);
  std::vector<Envelope> out = testing::decode_frames(sim.take_output());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].body_case(), Envelope::kHello);
  EXPECT_EQ(out[0].hello().tick_hz(), 168'000'000u);
  EXPECT_EQ(out[0].hello().protocol_version(), kProtocolVersion);
  EXPECT_EQ(out[0].hello().input_count(), 4u);
  EXPECT_EQ(sim.next_deadline_ns(), kT0 + kS);
  int heartbeats = 0;
  while (sim.next_deadline_ns() <= kT0 + 3 * kS) {
    const int64_t t = sim.next_deadline_ns();
    sim.on_tick(t);
    for (const Envelope& e : testing::decode_frames(sim.take_output())) {
      ASSERT_EQ(e.body_case(), Envelope::kHeartbeat);
      ++heartbeats;
      EXPECT_EQ(t, kT0 + heartbeats * kS);
      EXPECT_EQ(e.heartbeat().uptime_ms(), static_cast<uint64_t>(heartbeats) * 1000);
      EXPECT_EQ(e.heartbeat().tick(), sim.tick_at(t));
    }
  }
  EXPECT_EQ(heartbeats, 3);
}

TEST(BridgeSim, AnswersSyncWithArrivalAndReplyTicks) {
  const BridgeSimOptions o = options();
  BridgeSimulator sim(o);
  sim.on_connect(kT0);
  sim.take_output();
  Envelope ping;
  ping.mutable_sync_request()->set_seq(7);
  ping.mutable_sync_request()->set_t1_host_ns(kT0 + 5 * kMs);
  const int64_t t_arrival = kT0 + 5 * kMs + 400'000;
  sim.on_bytes(frame_of(ping), t_arrival);
  EXPECT_TRUE(sim.take_output().empty()) << "the reply leaves after the processing delay";
  EXPECT_EQ(sim.next_deadline_ns(), t_arrival + o.processing_delay_ns);
  sim.on_tick(t_arrival + o.processing_delay_ns);
  const std::vector<Envelope> out = testing::decode_frames(sim.take_output());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].body_case(), Envelope::kSyncReply);
  const SyncReply& r = out[0].sync_reply();
  EXPECT_EQ(r.seq(), 7u);
  EXPECT_EQ(r.t1_host_ns(), kT0 + 5 * kMs);
  EXPECT_NEAR(static_cast<double>(r.t2_tick()), expected_tick(o, t_arrival), 1.0);
  EXPECT_NEAR(static_cast<double>(r.t3_tick()), expected_tick(o, t_arrival + 20'000), 1.0);
}

TEST(BridgeSim, ReportsScheduledEdgesAfterStartAndLogsTruth) {
  BridgeSimOptions o = options();
  o.schedule = {{kT0 + 50 * kMs, 0, EDGE_KIND_RISING},   // before Start: not detected
                {kT0 + 300 * kMs, 2, EDGE_KIND_RISING},
                {kT0 + 200 * kMs, 1, EDGE_KIND_RISING},  // out of order in the schedule
                {kT0 + 250 * kMs, 1, EDGE_KIND_FALLING}};  // rising-only input: filtered
  BridgeSimulator sim(o);
  sim.on_connect(kT0);
  sim.take_output();
  sim.on_bytes(frame_of(start_msg()), kT0 + 100 * kMs);
  EXPECT_TRUE(sim.running());
  std::vector<Envelope> edges;
  while (sim.next_deadline_ns() < kT0 + 900 * kMs) {
    sim.on_tick(sim.next_deadline_ns());
    for (const Envelope& e : testing::decode_frames(sim.take_output())) {
      if (e.body_case() == Envelope::kEdge) edges.push_back(e);
    }
  }
  ASSERT_EQ(edges.size(), 2u);
  EXPECT_EQ(edges[0].edge().seq(), 0u);
  EXPECT_EQ(edges[0].edge().input(), 1u);
  EXPECT_NEAR(static_cast<double>(edges[0].edge().tick()), expected_tick(o, kT0 + 200 * kMs), 1.0);
  EXPECT_EQ(edges[1].edge().seq(), 1u);
  EXPECT_EQ(edges[1].edge().input(), 2u);
  const std::vector<TruthEdge>& truth = sim.truth();
  ASSERT_EQ(truth.size(), 2u);
  EXPECT_EQ(truth[0].t_ns, kT0 + 200 * kMs);
  EXPECT_EQ(truth[1].t_ns, kT0 + 300 * kMs);
  EXPECT_EQ(truth[1].tick, edges[1].edge().tick());
  EXPECT_EQ(truth[1].fate, EdgeFate::sent);
  EXPECT_EQ(sim.counters().edges_seen(), 2u);
}

TEST(BridgeSim, ConfigureAndStatus) {
  BridgeSimOptions o = options();
  o.schedule = {{kT0 + 200 * kMs, 3, EDGE_KIND_FALLING}, {kT0 + 210 * kMs, 3, EDGE_KIND_RISING},
                {kT0 + 211 * kMs, 0, EDGE_KIND_RISING}};
  BridgeSimulator sim(o);
  sim.on_connect(kT0);
  Envelope cfg;
  cfg.mutable_configure()->set_inputs_enabled_mask(0b1000);
  for (int i = 0; i < 4; ++i) cfg.mutable_configure()->add_polarity(POLARITY_BOTH);
  cfg.mutable_configure()->set_holdoff_us(50'000);  // 50 ms: swallows the second edge on input 3
  Envelope status;
  status.mutable_status_request();
  Bytes bytes = frame_of(cfg);
  for (const Bytes& b : {frame_of(start_msg()), frame_of(status)}) bytes.insert(bytes.end(), b.begin(), b.end());
  sim.on_bytes(bytes, kT0 + 100 * kMs);
  sim.on_tick(kT0 + 500 * kMs);
  std::vector<Envelope> statuses, edges;
  for (const Envelope& e : testing::decode_frames(sim.take_output())) {
    if (e.body_case() == Envelope::kStatus) statuses.push_back(e);
    if (e.body_case() == Envelope::kEdge) edges.push_back(e);
  }
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_TRUE(statuses[0].status().running());
  EXPECT_EQ(statuses[0].status().config().inputs_enabled_mask(), 0b1000u);
  EXPECT_EQ(statuses[0].status().config().holdoff_us(), 50'000u);
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].edge().input(), 3u);
  EXPECT_EQ(edges[0].edge().edge(), EDGE_KIND_FALLING);
}

TEST(BridgeSim, RejectsBadFramesFromTheHost) {
  BridgeSimulator sim(options());
  sim.on_connect(kT0);
  sim.take_output();
  sim.on_bytes(Bytes{0x05, 0x01, 0x00}, kT0 + kMs);
  sim.on_tick(kT0 + 2 * kMs);
  const std::vector<Envelope> out = testing::decode_frames(sim.take_output());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].body_case(), Envelope::kError);
  EXPECT_EQ(out[0].error().code(), ERROR_CODE_BAD_FRAME);
  EXPECT_EQ(sim.counters().frames_rejected(), 1u);
}

TEST(BridgeSim, InjectedFaults) {
  BridgeSimOptions o = options();
  o.running_at_power_on = true;
  for (int i = 0; i < 6; ++i) o.schedule.push_back({kT0 + (i + 1) * 100 * kMs, 2, EDGE_KIND_RISING});
  BridgeSimulator sim(o);
  sim.on_connect(kT0);
  sim.take_output();

  EXPECT_FALSE(sim.inject("no_such_fault"));
  EXPECT_FALSE(sim.inject("clock_step:12x"));
  ASSERT_TRUE(sim.inject("bad_crc"));
  sim.on_tick(kT0 + 150 * kMs);  // edge 0 is the next frame
  size_t bad = 0;
  EXPECT_TRUE(testing::decode_frames(sim.take_output(), &bad).empty());
  EXPECT_EQ(bad, 1u);
  EXPECT_EQ(sim.truth()[0].fate, EdgeFate::corrupted);

  ASSERT_TRUE(sim.inject("garbage"));
  bad = 0;
  const Bytes garbage = sim.take_output();
  EXPECT_GE(garbage.size(), 9u);
  EXPECT_EQ(garbage.back(), 0x00) << "garbage ends on a delimiter so the next frame is intact";
  EXPECT_TRUE(testing::decode_frames(garbage, &bad).empty());
  EXPECT_GE(bad, 1u);

  ASSERT_TRUE(sim.inject("drop_edges:2"));
  sim.on_tick(kT0 + 350 * kMs);  // edges 1 and 2 are due: dropped
  EXPECT_TRUE(testing::decode_frames(sim.take_output()).empty());
  EXPECT_EQ(sim.counters().edges_dropped(), 2u);
  EXPECT_EQ(sim.truth()[1].fate, EdgeFate::dropped);
  EXPECT_EQ(sim.truth()[2].fate, EdgeFate::dropped);

  const double before = static_cast<double>(sim.tick_at(kT0 + 380 * kMs));
  ASSERT_TRUE(sim.inject("clock_step:-250000000"));
  EXPECT_NEAR(static_cast<double>(sim.tick_at(kT0 + 380 * kMs)), before - 0.25 * 168e6, 1.0);
  sim.on_tick(kT0 + 450 * kMs);
  const std::vector<Envelope> out = testing::decode_frames(sim.take_output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].edge().seq(), 3u) << "sequence numbers skip the dropped edges";
  EXPECT_NEAR(static_cast<double>(out[0].edge().tick()), expected_tick(o, kT0 + 400 * kMs, -250'000'000), 1.0);
}

TEST(BridgeSim, EdgesWhileDisconnectedAreMarkedInTheTruth) {
  BridgeSimOptions o = options();
  o.running_at_power_on = true;
  o.schedule = {{kT0 + 100 * kMs, 2, EDGE_KIND_RISING}, {kT0 + 300 * kMs, 2, EDGE_KIND_RISING}};
  BridgeSimulator sim(o);
  sim.on_connect(kT0);
  sim.on_disconnect(kT0 + 200 * kMs);
  sim.on_tick(kT0 + 400 * kMs);
  ASSERT_EQ(sim.truth().size(), 2u);
  EXPECT_EQ(sim.truth()[0].fate, EdgeFate::disconnected) << "queued but unsent when the link dropped";
  EXPECT_EQ(sim.truth()[1].fate, EdgeFate::disconnected);
  EXPECT_TRUE(sim.take_output().empty());
}

}  // namespace
}  // namespace opsync::drivers::bridge
