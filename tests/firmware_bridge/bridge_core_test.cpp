// The core's request handling, spoken to with the daemon's own encoder and read back with its
// decoder: sync replies (seq and t1 echoed, t2 at reception, t2 <= t3), Configure (mask,
// polarity, debounce, holdoff, rejections), Start/Stop, ResetCounters, Status, Hello at start
// and when a host returns after silence, heartbeats, and rejected frames.
#include "core/bridge_core.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "drivers/bridge/bridge_codec.h"
#include "daemon/drivers/bridge/fake_host.h"
#include "fake_port.h"

namespace opsync::fw {
namespace {

using testing::FakePort;
namespace pb = opsync::drivers::bridge;  // the driver's codec and the wire messages it takes in

constexpr uint32_t kTickHz = 10'000'000;  // 100 ns ticks
constexpr uint64_t kTicksPerMs = kTickHz / 1000;

class CoreTest : public ::testing::Test {
 protected:
  CoreTest() : core(port, options()) {
    port.count = 123'456;
    core.start();
  }
  static CoreOptions options() {
    CoreOptions o;
    o.tick_hz = kTickHz;
    o.firmware_version = "1.2.3+gabcdef0-test";
    return o;
  }
  void send(const pb::Envelope& e) { port.receive(pb::encode_envelope_frame(e)); }
  // Runs the main loop once and returns what the core sent since the last call.
  std::vector<pb::Envelope> exchange() {
    core.poll();
    size_t bad = 0;
    std::vector<pb::Envelope> out = pb::testing::decode_frames(port.tx, &bad);
    EXPECT_EQ(bad, 0u) << "the daemon could not read a frame the core sent";
    port.tx.clear();
    return out;
  }
  static const pb::Envelope* find(const std::vector<pb::Envelope>& frames, pb::Envelope::BodyCase kind) {
    for (const auto& f : frames) {
      if (f.body_case() == kind) return &f;
    }
    return nullptr;
  }
  void edge(uint8_t input, EdgeKind kind, uint64_t after_ticks = 1000) {
    port.advance(after_ticks);
    port.latch(input, kind);
    core.timer_isr();
  }

  FakePort port;
  BridgeCore core;
};

TEST_F(CoreTest, HelloAtStart) {
  const auto out = exchange();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].has_hello());
  EXPECT_EQ(out[0].hello().protocol_version(), static_cast<uint32_t>(pb::PROTOCOL_VERSION_CURRENT));
  EXPECT_EQ(out[0].hello().firmware_version(), "1.2.3+gabcdef0-test");
  EXPECT_EQ(out[0].hello().tick_hz(), kTickHz);
  EXPECT_EQ(out[0].hello().input_count(), 4u);
}

TEST_F(CoreTest, SyncReplyEchoesSeqAndT1WithT2AtReceptionAndT2BeforeT3) {
  exchange();
  pb::Envelope ping;
  ping.mutable_sync_request()->set_seq(4242);
  ping.mutable_sync_request()->set_t1_host_ns(-1'700'000'000'123'456'789);
  send(ping);
  const uint64_t rx_tick = port.count;  // the fake counter stands still during poll()
  auto out = exchange();
  const pb::Envelope* r = find(out, pb::Envelope::kSyncReply);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->sync_reply().seq(), 4242u);
  EXPECT_EQ(r->sync_reply().t1_host_ns(), -1'700'000'000'123'456'789);
  EXPECT_EQ(r->sync_reply().t2_tick(), rx_tick);
  EXPECT_LE(r->sync_reply().t2_tick(), r->sync_reply().t3_tick());

  // Pings that wait (UART busy) keep their reception tick; the reply's t3 is when it is sent.
  port.tx_room = 0;
  ping.mutable_sync_request()->set_seq(1);
  send(ping);
  exchange();
  const uint64_t t2 = port.count;
  port.advance(5 * kTicksPerMs);
  ping.mutable_sync_request()->set_seq(2);
  send(ping);
  exchange();
  port.advance(5 * kTicksPerMs);
  port.tx_room = SIZE_MAX;
  out = exchange();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].sync_reply().seq(), 1u);
  EXPECT_EQ(out[0].sync_reply().t2_tick(), t2);
  EXPECT_EQ(out[0].sync_reply().t3_tick(), t2 + 10 * kTicksPerMs);
  EXPECT_EQ(out[1].sync_reply().seq(), 2u);
  EXPECT_EQ(out[1].sync_reply().t2_tick(), t2 + 5 * kTicksPerMs);
  for (const auto& f : out) EXPECT_LE(f.sync_reply().t2_tick(), f.sync_reply().t3_tick());
}

TEST_F(CoreTest, ConfigurePolarityHoldoffDebounceAndStatusReportsIt) {
  exchange();
  pb::Envelope c;
  c.mutable_configure()->set_inputs_enabled_mask(0b0111);
  c.mutable_configure()->add_polarity(pb::POLARITY_BOTH);
  c.mutable_configure()->add_polarity(pb::POLARITY_FALLING);  // input 2 missing: rising
  c.mutable_configure()->set_debounce_us(0);
  c.mutable_configure()->set_holdoff_us(500);
  send(c);
  pb::Envelope start, status;
  start.mutable_start();
  status.mutable_status_request();
  send(start);
  send(status);
  auto out = exchange();
  const pb::Envelope* s = find(out, pb::Envelope::kStatus);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->status().running());
  EXPECT_EQ(s->status().config().inputs_enabled_mask(), 0b0111u);
  ASSERT_EQ(s->status().config().polarity_size(), 4);
  EXPECT_EQ(s->status().config().polarity(0), pb::POLARITY_BOTH);
  EXPECT_EQ(s->status().config().polarity(1), pb::POLARITY_FALLING);
  EXPECT_EQ(s->status().config().polarity(2), pb::POLARITY_RISING);
  EXPECT_EQ(s->status().config().polarity(3), pb::POLARITY_RISING);
  EXPECT_EQ(s->status().config().holdoff_us(), 500u);
  EXPECT_EQ(port.enabled_mask, 0b0111u);

  edge(0, EdgeKind::rising);
  edge(0, EdgeKind::falling, 10 * kTicksPerMs);
  edge(1, EdgeKind::rising);
  edge(1, EdgeKind::falling);
  edge(2, EdgeKind::rising);
  edge(2, EdgeKind::rising, 100);  // 10 us later: within the 500 us holdoff
  edge(3, EdgeKind::rising);       // disabled
  out = exchange();
  std::vector<std::pair<uint32_t, pb::EdgeKind>> got;
  for (const auto& f : out) {
    if (f.has_edge()) got.emplace_back(f.edge().input(), f.edge().edge());
  }
  EXPECT_EQ(got, (std::vector<std::pair<uint32_t, pb::EdgeKind>>{{0, pb::EDGE_KIND_RISING},
                                                                 {0, pb::EDGE_KIND_FALLING},
                                                                 {1, pb::EDGE_KIND_FALLING},
                                                                 {2, pb::EDGE_KIND_RISING}}));

  // Debounce through Configure: a 50 us glitch on a 100 us debounce is no edge.
  c.mutable_configure()->set_debounce_us(100);
  c.mutable_configure()->set_holdoff_us(0);
  send(c);
  exchange();
  edge(2, EdgeKind::rising, 10 * kTicksPerMs);
  edge(2, EdgeKind::falling, 500);  // 50 us
  port.advance(10 * kTicksPerMs);
  out = exchange();
  EXPECT_EQ(find(out, pb::Envelope::kEdge), nullptr);
  edge(2, EdgeKind::rising, 10 * kTicksPerMs);
  const uint64_t rose = port.count;
  port.advance(1000);  // held 100 us
  out = exchange();
  const pb::Envelope* e = find(out, pb::Envelope::kEdge);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->edge().tick(), rose);
}

TEST_F(CoreTest, ConfigureOutOfRangeIsRejectedAndKeepsTheOldSettings) {
  exchange();
  pb::Envelope c;
  c.mutable_configure()->set_inputs_enabled_mask(0x10);  // input 4 does not exist
  send(c);
  c.mutable_configure()->set_inputs_enabled_mask(0x1);
  c.mutable_configure()->set_debounce_us(kMaxDebounceUs + 1);
  send(c);
  c.mutable_configure()->set_debounce_us(0);
  c.mutable_configure()->add_polarity(static_cast<pb::Polarity>(9));
  send(c);
  pb::Envelope status;
  status.mutable_status_request();
  send(status);
  const auto out = exchange();
  int bad_config = 0;
  for (const auto& f : out) bad_config += f.has_error() && f.error().code() == pb::ERROR_CODE_BAD_CONFIG;
  EXPECT_EQ(bad_config, 3);
  const pb::Envelope* s = find(out, pb::Envelope::kStatus);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status().config().inputs_enabled_mask(), 0xFu);  // power-on settings
  EXPECT_FALSE(s->status().running());
}

TEST_F(CoreTest, StartStopGateTheEdges) {
  exchange();
  edge(0, EdgeKind::rising);  // not started yet
  pb::Envelope start, stop;
  start.mutable_start();
  stop.mutable_stop();
  send(start);
  exchange();
  edge(0, EdgeKind::rising);
  send(stop);
  exchange();
  edge(0, EdgeKind::rising);
  send(start);
  exchange();
  edge(0, EdgeKind::rising);
  const auto out = exchange();
  std::vector<uint32_t> seqs;
  for (const auto& f : out) {
    if (f.has_edge()) seqs.push_back(f.edge().seq());
  }
  // One edge was sent in the exchange after Stop's; collect from there too.
  EXPECT_EQ(seqs, (std::vector<uint32_t>{1}));
  EXPECT_EQ(core.counters().edges_seen, 2u);
}

TEST_F(CoreTest, ResetCountersZeroesCountersAndRestartsSeq) {
  exchange();
  pb::Envelope start;
  start.mutable_start();
  send(start);
  port.receive({0x05, 0x01, 0x02, 0x03, 0x04, 0x00});  // a bad frame: frames_rejected 1
  exchange();
  edge(0, EdgeKind::rising);
  edge(0, EdgeKind::rising);
  exchange();
  EXPECT_EQ(core.counters().edges_seen, 2u);
  EXPECT_EQ(core.counters().frames_rejected, 1u);
  pb::Envelope reset, status;
  reset.mutable_reset_counters();
  status.mutable_status_request();
  send(reset);
  send(status);
  auto out = exchange();
  const pb::Envelope* s = find(out, pb::Envelope::kStatus);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status().counters().edges_seen(), 0u);
  EXPECT_EQ(s->status().counters().edges_dropped(), 0u);
  EXPECT_EQ(s->status().counters().frames_rejected(), 0u);
  edge(0, EdgeKind::rising);
  out = exchange();
  const pb::Envelope* e = find(out, pb::Envelope::kEdge);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->edge().seq(), 0u);
}

TEST_F(CoreTest, RejectedFramesAreCountedAndAnswered) {
  exchange();
  std::vector<uint8_t> bad_crc = pb::encode_envelope_frame([] {
    pb::Envelope e;
    e.mutable_start();
    return e;
  }());
  bad_crc[1] ^= 0x40;
  port.receive(bad_crc);
  port.receive({0x03, 0xFF, 0xFF});  // valid COBS, then the CRC...
  port.receive({0x00});
  // Intact frame, not protobuf.
  port.receive(drivers::bridge::encode_frame(std::vector<uint8_t>{0xFF, 0xFF, 0xFF}));
  // Intact envelope of a device-to-host kind.
  pb::Envelope edge_from_host;
  edge_from_host.mutable_edge()->set_seq(1);
  send(edge_from_host);
  // Far too long.
  port.receive(std::vector<uint8_t>(300, 0x11));
  port.receive({0x00});
  auto out = exchange();
  std::vector<pb::ErrorCode> codes;
  for (const auto& f : out) {
    if (f.has_error()) codes.push_back(f.error().code());
  }
  // Four error slots: the fifth is dropped (all are counted).
  EXPECT_EQ(codes, (std::vector<pb::ErrorCode>{pb::ERROR_CODE_BAD_FRAME, pb::ERROR_CODE_BAD_FRAME,
                                               pb::ERROR_CODE_DECODE, pb::ERROR_CODE_UNKNOWN_MESSAGE}));
  EXPECT_EQ(core.counters().frames_rejected, 4u);  // the unknown kind decoded fine
  EXPECT_FALSE(core.edges().running()) << "the corrupted Start must not start anything";
  EXPECT_EQ(core.rx_stats().overflows, 1u);
}

TEST_F(CoreTest, HelloAgainWhenAHostTalksAfterSilence) {
  exchange();  // the power-on Hello
  pb::Envelope ping;
  ping.mutable_sync_request()->set_seq(1);
  send(ping);
  auto out = exchange();
  // The first frame ever heard also brings a Hello: the power-on one went to nobody, probably.
  EXPECT_NE(find(out, pb::Envelope::kHello), nullptr);
  port.advance(100 * kTicksPerMs);
  send(ping);
  out = exchange();
  EXPECT_EQ(find(out, pb::Envelope::kHello), nullptr);
  port.advance(2500 * kTicksPerMs);  // a host gone and back
  send(ping);
  out = exchange();
  EXPECT_NE(find(out, pb::Envelope::kHello), nullptr);
  core.host_connected();
  out = exchange();
  EXPECT_NE(find(out, pb::Envelope::kHello), nullptr);
}

TEST_F(CoreTest, HeartbeatsOnceASecondWithCountersAndUptime) {
  exchange();
  const uint64_t boot = 123'456;
  std::vector<pb::Envelope> beats;
  for (int ms = 0; ms < 3500; ms += 10) {
    port.advance(10 * kTicksPerMs);
    for (const auto& f : exchange()) {
      if (f.has_heartbeat()) beats.push_back(f);
    }
  }
  ASSERT_EQ(beats.size(), 3u);
  for (size_t i = 0; i < beats.size(); ++i) {
    const uint64_t due = boot + (i + 1) * 1000 * kTicksPerMs;
    EXPECT_GE(beats[i].heartbeat().tick(), due);
    EXPECT_LT(beats[i].heartbeat().tick(), due + 10 * kTicksPerMs);
    EXPECT_EQ(beats[i].heartbeat().uptime_ms(), (beats[i].heartbeat().tick() - boot) / kTicksPerMs);
    EXPECT_TRUE(beats[i].heartbeat().has_counters());
  }
}

// A frame extension (test builds) sees the envelopes with no body the core knows, and nothing
// else; without one, or when it declines, such an envelope is answered UNKNOWN_MESSAGE.
TEST_F(CoreTest, UnknownBodiesGoToTheFrameExtensionFirst) {
  struct Recorder final : FrameExtension {
    bool extension_frame(const uint8_t* payload, size_t size, uint64_t rx_tick) override {
      frames.emplace_back(payload, payload + size);
      ticks.push_back(rx_tick);
      return accept;
    }
    bool accept = true;
    std::vector<std::vector<uint8_t>> frames;
    std::vector<uint64_t> ticks;
  } extension;
  exchange();
  // Envelope field 100 (a length-delimited message holding field 1 = 7): unknown to the core.
  const std::vector<uint8_t> unknown = {0xA2, 0x06, 0x02, 0x08, 0x07};
  const auto errors_in = [](const std::vector<pb::Envelope>& out) {
    std::vector<pb::ErrorCode> codes;
    for (const auto& f : out) {
      if (f.has_error()) codes.push_back(f.error().code());
    }
    return codes;
  };

  port.receive(drivers::bridge::encode_frame(unknown));
  EXPECT_EQ(errors_in(exchange()), std::vector<pb::ErrorCode>{pb::ERROR_CODE_UNKNOWN_MESSAGE});

  core.set_extension(&extension);
  port.advance(5000);
  port.receive(drivers::bridge::encode_frame(unknown));
  EXPECT_TRUE(errors_in(exchange()).empty());
  ASSERT_EQ(extension.frames.size(), 1u);
  EXPECT_EQ(extension.frames[0], unknown);
  EXPECT_EQ(extension.ticks[0], port.count) << "rx_tick is the tick at the frame's delimiter";

  pb::Envelope edge_from_host;  // a known kind in the wrong direction is not offered
  edge_from_host.mutable_edge()->set_seq(1);
  send(edge_from_host);
  EXPECT_EQ(errors_in(exchange()), std::vector<pb::ErrorCode>{pb::ERROR_CODE_UNKNOWN_MESSAGE});
  EXPECT_EQ(extension.frames.size(), 1u);

  extension.accept = false;
  port.receive(drivers::bridge::encode_frame(unknown));
  EXPECT_EQ(errors_in(exchange()), std::vector<pb::ErrorCode>{pb::ERROR_CODE_UNKNOWN_MESSAGE});
  EXPECT_EQ(extension.frames.size(), 2u);
  EXPECT_EQ(core.counters().frames_rejected, 0u) << "intact envelopes are not rejected frames";
}

TEST_F(CoreTest, InterruptsStayMaskedOnlyBriefly) {
  exchange();
  pb::Envelope start;
  start.mutable_start();
  send(start);
  exchange();
  for (int i = 0; i < 10; ++i) edge(static_cast<uint8_t>(i % 4), EdgeKind::rising);
  exchange();
  EXPECT_EQ(port.critical_depth, 0) << "every critical section was left";
  EXPECT_LE(port.max_critical_depth, 2) << "nesting: a tick read inside a masked section";
  EXPECT_EQ(port.timer_reads_outside_critical, 0);
}

}  // namespace
}  // namespace opsync::fw
