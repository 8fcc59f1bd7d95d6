// Bridge envelopes: hand-computed protobuf encodings (pinning field numbers the firmware relies
// on), round trips of every message kind, and rejection of bytes that are not an envelope.
#include "drivers/bridge/bridge_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "drivers/bridge/frame.h"

namespace opsync::drivers::bridge {
namespace {

using Bytes = std::vector<uint8_t>;

Envelope round_trip(const Envelope& in) {
  const std::optional<Envelope> out = decode_envelope(encode_envelope(in));
  EXPECT_TRUE(out.has_value());
  return out.value_or(Envelope{});
}

TEST(Codec, WireBytesFollowTheProtoFieldNumbers) {
  // Envelope.edge is field 9 (tag (9 << 3) | 2 = 0x4A); Edge.seq field 1 varint.
  Envelope edge;
  edge.mutable_edge()->set_seq(1);
  EXPECT_EQ(encode_envelope(edge), (Bytes{0x4A, 0x02, 0x08, 0x01}));
  // Envelope.sync_request field 1: seq 5, t1_host_ns 300 (varint AC 02).
  Envelope ping;
  ping.mutable_sync_request()->set_seq(5);
  ping.mutable_sync_request()->set_t1_host_ns(300);
  EXPECT_EQ(encode_envelope(ping), (Bytes{0x0A, 0x05, 0x08, 0x05, 0x10, 0xAC, 0x02}));
  // Empty messages still mark the oneof: Start is field 3, length 0.
  Envelope start;
  start.mutable_start();
  EXPECT_EQ(encode_envelope(start), (Bytes{0x1A, 0x00}));
}

TEST(Codec, RoundTripsDeviceMessages) {
  Envelope hello;
  hello.mutable_hello()->set_protocol_version(kProtocolVersion);
  hello.mutable_hello()->set_firmware_version("1.2.3+gdeadbee");
  hello.mutable_hello()->set_tick_hz(168'000'000);
  hello.mutable_hello()->set_input_count(4);
  Envelope h = round_trip(hello);
  ASSERT_EQ(h.body_case(), Envelope::kHello);
  EXPECT_EQ(h.hello().firmware_version(), "1.2.3+gdeadbee");
  EXPECT_EQ(h.hello().tick_hz(), 168'000'000u);

  Envelope edge;
  edge.mutable_edge()->set_seq(0xFFFFFFFFu);
  edge.mutable_edge()->set_input(3);
  edge.mutable_edge()->set_edge(EDGE_KIND_FALLING);
  edge.mutable_edge()->set_tick(0xFFFFFFFFFFFFull + 17);
  Envelope e = round_trip(edge);
  ASSERT_EQ(e.body_case(), Envelope::kEdge);
  EXPECT_EQ(e.edge().seq(), 0xFFFFFFFFu);
  EXPECT_EQ(e.edge().input(), 3u);
  EXPECT_EQ(e.edge().edge(), EDGE_KIND_FALLING);
  EXPECT_EQ(e.edge().tick(), 0xFFFFFFFFFFFFull + 17);

  Envelope reply;
  reply.mutable_sync_reply()->set_seq(9);
  reply.mutable_sync_reply()->set_t1_host_ns(1'700'000'000'123'456'789);
  reply.mutable_sync_reply()->set_t2_tick(1'000'000'000'000ull);
  reply.mutable_sync_reply()->set_t3_tick(1'000'000'003'360ull);
  Envelope r = round_trip(reply);
  ASSERT_EQ(r.body_case(), Envelope::kSyncReply);
  EXPECT_EQ(r.sync_reply().t1_host_ns(), 1'700'000'000'123'456'789);
  EXPECT_EQ(r.sync_reply().t3_tick(), 1'000'000'003'360ull);

  Envelope hb;
  hb.mutable_heartbeat()->set_tick(123);
  hb.mutable_heartbeat()->mutable_counters()->set_edges_dropped(7);
  hb.mutable_heartbeat()->set_uptime_ms(5000);
  Envelope b = round_trip(hb);
  ASSERT_EQ(b.body_case(), Envelope::kHeartbeat);
  EXPECT_EQ(b.heartbeat().counters().edges_dropped(), 7u);
  EXPECT_EQ(b.heartbeat().uptime_ms(), 5000u);

  Envelope status;
  status.mutable_status()->set_running(true);
  status.mutable_status()->mutable_config()->set_inputs_enabled_mask(0x5);
  status.mutable_status()->mutable_config()->add_polarity(POLARITY_BOTH);
  Envelope s = round_trip(status);
  ASSERT_EQ(s.body_case(), Envelope::kStatus);
  EXPECT_TRUE(s.status().running());
  EXPECT_EQ(s.status().config().inputs_enabled_mask(), 0x5u);
  ASSERT_EQ(s.status().config().polarity_size(), 1);
  EXPECT_EQ(s.status().config().polarity(0), POLARITY_BOTH);

  Envelope error;
  error.mutable_error()->set_code(ERROR_CODE_RING_OVERFLOW);
  error.mutable_error()->set_detail("ring full");
  Envelope x = round_trip(error);
  ASSERT_EQ(x.body_case(), Envelope::kError);
  EXPECT_EQ(x.error().code(), ERROR_CODE_RING_OVERFLOW);
}

TEST(Codec, RoundTripsHostMessages) {
  Envelope cfg;
  cfg.mutable_configure()->set_inputs_enabled_mask(0x7);
  for (int i = 0; i < 4; ++i) cfg.mutable_configure()->add_polarity(POLARITY_FALLING);
  cfg.mutable_configure()->set_debounce_us(5);
  cfg.mutable_configure()->set_holdoff_us(100);
  Envelope c = round_trip(cfg);
  ASSERT_EQ(c.body_case(), Envelope::kConfigure);
  EXPECT_EQ(c.configure().polarity_size(), 4);
  EXPECT_EQ(c.configure().holdoff_us(), 100u);
  for (auto make : {+[](Envelope& e) { e.mutable_stop(); }, +[](Envelope& e) { e.mutable_reset_counters(); },
                    +[](Envelope& e) { e.mutable_status_request(); }}) {
    Envelope in;
    make(in);
    EXPECT_EQ(round_trip(in).body_case(), in.body_case());
  }
}

TEST(Codec, RejectsNonEnvelopes) {
  EXPECT_FALSE(decode_envelope(Bytes{0xFF, 0xFF, 0xFF}).has_value());  // bad tag / truncated varint
  EXPECT_FALSE(decode_envelope(Bytes{0x4A, 0x10, 0x08}).has_value());  // length past the end
  // An empty payload is a valid (empty) envelope: the driver counts it as malformed.
  const std::optional<Envelope> empty = decode_envelope(Bytes{});
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->body_case(), Envelope::BODY_NOT_SET);
}

TEST(Codec, FramedEnvelopeDecodes) {
  Envelope edge;
  edge.mutable_edge()->set_seq(42);
  edge.mutable_edge()->set_tick(1ull << 40);
  const Bytes wire = encode_envelope_frame(edge);
  ASSERT_EQ(wire.back(), 0x00);
  FrameDecoder d;
  FrameResult r;
  int frames = 0;
  for (uint8_t b : wire) {
    if (!d.push(b, r)) continue;
    ++frames;
    ASSERT_EQ(r.status, FrameStatus::ok);
    const std::optional<Envelope> e = decode_envelope(r.payload);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->edge().seq(), 42u);
    EXPECT_EQ(e->edge().tick(), 1ull << 40);
  }
  EXPECT_EQ(frames, 1);
}

}  // namespace
}  // namespace opsync::drivers::bridge
