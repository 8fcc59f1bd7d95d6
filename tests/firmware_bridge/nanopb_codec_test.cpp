// The firmware's nanopb codec against the host protobuf library (the daemon's side of the wire):
// for every message kind, the same values encode to the same bytes; bytes from either side
// decode on the other to the same values (checked by re-encoding, and field by field for fixed
// cases). Values are random, with zeros mixed in (proto3 leaves them off the wire), extremes
// (negative t1: ten-byte varints; 64-bit ticks) and full-length strings.
#include "core/envelope_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bridge.pb.h"
#include "core/frame.h"

namespace opsync::fw {
namespace {

using Bytes = std::vector<uint8_t>;
namespace pb = opsync::bridge;

Bytes nano_encode(const Envelope& e) {
  Bytes out(kMaxPayloadBytes);
  size_t n = 0;
  EXPECT_TRUE(envelope_encode(e, out.data(), out.size(), &n));
  out.resize(n);
  return out;
}

Bytes proto_encode(const pb::Envelope& e) {
  Bytes out(e.ByteSizeLong());
  e.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

class Values {
 public:
  explicit Values(uint64_t seed) : rng_(seed) {}
  // A quarter zeros, a quarter the type's maximum, the rest anything.
  uint64_t u64() { return pick<uint64_t>(); }
  uint32_t u32() { return pick<uint32_t>(); }
  int64_t i64() {
    switch (rng_() % 4) {
      case 0: return 0;
      case 1: return rng_() % 2 == 0 ? INT64_MIN : INT64_MAX;
      default: return static_cast<int64_t>(rng_());
    }
  }
  bool flag() { return rng_() % 2 == 0; }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  std::string text(size_t max_chars) {
    const size_t n = rng_() % 3 == 0 ? max_chars : rng_() % (max_chars + 1);
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(0x20 + rng_() % 0x5F));
    return s;
  }

 private:
  template <typename T>
  T pick() {
    switch (rng_() % 4) {
      case 0: return 0;
      case 1: return static_cast<T>(~T{0});
      default: return static_cast<T>(rng_() >> (rng_() % 64));
    }
  }
  std::mt19937_64 rng_;
};

template <size_t N>
void set_text(char (&out)[N], const std::string& s) {
  ASSERT_LT(s.size(), N);
  std::copy(s.begin(), s.end(), out);
  out[s.size()] = '\0';
}

struct Pair {
  Envelope nano = opsync_bridge_Envelope_init_zero;
  pb::Envelope proto;
};

// The message kinds, each filled with the same random values on both sides.
Pair make(pb_size_t tag, Values& v) {
  Pair p;
  p.nano.which_body = tag;
  switch (tag) {
    case opsync_bridge_Envelope_sync_request_tag: {
      const uint32_t seq = v.u32();
      const int64_t t1 = v.i64();
      p.nano.body.sync_request = {seq, t1};
      p.proto.mutable_sync_request()->set_seq(seq);
      p.proto.mutable_sync_request()->set_t1_host_ns(t1);
      break;
    }
    case opsync_bridge_Envelope_configure_tag: {
      opsync_bridge_Configure& c = p.nano.body.configure;
      pb::Configure* q = p.proto.mutable_configure();
      c.inputs_enabled_mask = v.u32();
      q->set_inputs_enabled_mask(c.inputs_enabled_mask);
      c.polarity_count = static_cast<pb_size_t>(v.below(5));
      for (pb_size_t i = 0; i < c.polarity_count; ++i) {
        c.polarity[i] = static_cast<opsync_bridge_Polarity>(v.below(4));
        q->add_polarity(static_cast<pb::Polarity>(c.polarity[i]));
      }
      c.debounce_us = v.u32();
      c.holdoff_us = v.u32();
      q->set_debounce_us(c.debounce_us);
      q->set_holdoff_us(c.holdoff_us);
      break;
    }
    case opsync_bridge_Envelope_start_tag: p.proto.mutable_start(); break;
    case opsync_bridge_Envelope_stop_tag: p.proto.mutable_stop(); break;
    case opsync_bridge_Envelope_reset_counters_tag: p.proto.mutable_reset_counters(); break;
    case opsync_bridge_Envelope_status_request_tag: p.proto.mutable_status_request(); break;
    case opsync_bridge_Envelope_hello_tag: {
      opsync_bridge_Hello& h = p.nano.body.hello;
      h.protocol_version = v.u32();
      const std::string version = v.text(sizeof h.firmware_version - 1);
      set_text(h.firmware_version, version);
      h.tick_hz = v.u32();
      h.input_count = static_cast<uint8_t>(v.u32());
      pb::Hello* q = p.proto.mutable_hello();
      q->set_protocol_version(h.protocol_version);
      q->set_firmware_version(version);
      q->set_tick_hz(h.tick_hz);
      q->set_input_count(h.input_count);
      break;
    }
    case opsync_bridge_Envelope_edge_tag: {
      opsync_bridge_Edge& e = p.nano.body.edge;
      e.seq = v.u32();
      e.input = static_cast<uint8_t>(v.below(256));
      e.edge = static_cast<opsync_bridge_EdgeKind>(v.below(3));
      e.tick = v.u64();
      pb::Edge* q = p.proto.mutable_edge();
      q->set_seq(e.seq);
      q->set_input(e.input);
      q->set_edge(static_cast<pb::EdgeKind>(e.edge));
      q->set_tick(e.tick);
      break;
    }
    case opsync_bridge_Envelope_sync_reply_tag: {
      opsync_bridge_SyncReply& r = p.nano.body.sync_reply;
      r = {v.u32(), v.i64(), v.u64(), v.u64()};
      pb::SyncReply* q = p.proto.mutable_sync_reply();
      q->set_seq(r.seq);
      q->set_t1_host_ns(r.t1_host_ns);
      q->set_t2_tick(r.t2_tick);
      q->set_t3_tick(r.t3_tick);
      break;
    }
    case opsync_bridge_Envelope_heartbeat_tag: {
      opsync_bridge_Heartbeat& h = p.nano.body.heartbeat;
      pb::Heartbeat* q = p.proto.mutable_heartbeat();
      h.tick = v.u64();
      q->set_tick(h.tick);
      h.has_counters = v.flag();
      if (h.has_counters) {
        h.counters = {v.u32(), v.u32(), v.u32(), v.u32()};
        q->mutable_counters()->set_edges_seen(h.counters.edges_seen);
        q->mutable_counters()->set_edges_dropped(h.counters.edges_dropped);
        q->mutable_counters()->set_frames_rejected(h.counters.frames_rejected);
        q->mutable_counters()->set_rx_overruns(h.counters.rx_overruns);
      }
      h.uptime_ms = v.u64();
      q->set_uptime_ms(h.uptime_ms);
      break;
    }
    case opsync_bridge_Envelope_status_tag: {
      opsync_bridge_Status& s = p.nano.body.status;
      pb::Status* q = p.proto.mutable_status();
      s.running = v.flag();
      q->set_running(s.running);
      s.has_config = v.flag();
      if (s.has_config) {
        Pair c = make(opsync_bridge_Envelope_configure_tag, v);
        s.config = c.nano.body.configure;
        *q->mutable_config() = c.proto.configure();
      }
      s.has_counters = v.flag();
      if (s.has_counters) {
        s.counters = {v.u32(), v.u32(), v.u32(), v.u32()};
        q->mutable_counters()->set_edges_seen(s.counters.edges_seen);
        q->mutable_counters()->set_edges_dropped(s.counters.edges_dropped);
        q->mutable_counters()->set_frames_rejected(s.counters.frames_rejected);
        q->mutable_counters()->set_rx_overruns(s.counters.rx_overruns);
      }
      s.tick = v.u64();
      q->set_tick(s.tick);
      break;
    }
    case opsync_bridge_Envelope_error_tag: {
      opsync_bridge_Error& e = p.nano.body.error;
      e.code = static_cast<opsync_bridge_ErrorCode>(v.below(7));
      const std::string detail = v.text(sizeof e.detail - 1);
      set_text(e.detail, detail);
      p.proto.mutable_error()->set_code(static_cast<pb::ErrorCode>(e.code));
      p.proto.mutable_error()->set_detail(detail);
      break;
    }
    default: ADD_FAILURE() << "no such tag " << tag;
  }
  return p;
}

const pb_size_t kAllTags[] = {
    opsync_bridge_Envelope_sync_request_tag, opsync_bridge_Envelope_configure_tag,
    opsync_bridge_Envelope_start_tag,        opsync_bridge_Envelope_stop_tag,
    opsync_bridge_Envelope_reset_counters_tag, opsync_bridge_Envelope_status_request_tag,
    opsync_bridge_Envelope_hello_tag,        opsync_bridge_Envelope_edge_tag,
    opsync_bridge_Envelope_sync_reply_tag,   opsync_bridge_Envelope_heartbeat_tag,
    opsync_bridge_Envelope_status_tag,       opsync_bridge_Envelope_error_tag};

TEST(FwNanopb, EnvelopeBoundIs69Bytes) {
  EXPECT_EQ(opsync_bridge_Envelope_size, 69);
  EXPECT_EQ(static_cast<size_t>(opsync_bridge_Envelope_size), kMaxPayloadBytes);
}

TEST(FwNanopb, EveryMessageKindSameBytesBothDirections) {
  Values v(2024);
  for (pb_size_t tag : kAllTags) {
    for (int iter = 0; iter < 400; ++iter) {
      const Pair p = make(tag, v);
      const Bytes nano = nano_encode(p.nano);
      const Bytes proto = proto_encode(p.proto);
      ASSERT_EQ(nano, proto) << "tag " << tag << " iteration " << iter << ": " << p.proto.ShortDebugString();
      ASSERT_LE(nano.size(), kMaxPayloadBytes) << p.proto.ShortDebugString();

      // protobuf's bytes through nanopb and back out.
      Envelope decoded = opsync_bridge_Envelope_init_zero;
      ASSERT_TRUE(envelope_decode(proto.data(), proto.size(), &decoded)) << p.proto.ShortDebugString();
      ASSERT_EQ(decoded.which_body, tag);
      ASSERT_EQ(nano_encode(decoded), proto);

      // nanopb's bytes through protobuf and back out.
      pb::Envelope parsed;
      ASSERT_TRUE(parsed.ParseFromArray(nano.data(), static_cast<int>(nano.size())));
      ASSERT_EQ(static_cast<int>(parsed.body_case()), static_cast<int>(tag));
      ASSERT_EQ(proto_encode(parsed), nano);
    }
  }
}

TEST(FwNanopb, FieldsSurviveTheTripFromTheDaemon) {
  pb::Envelope c;
  c.mutable_configure()->set_inputs_enabled_mask(0b0101);
  c.mutable_configure()->add_polarity(pb::POLARITY_BOTH);
  c.mutable_configure()->add_polarity(pb::POLARITY_FALLING);
  c.mutable_configure()->set_debounce_us(250);
  c.mutable_configure()->set_holdoff_us(1000);
  const Bytes bytes = proto_encode(c);
  Envelope e = opsync_bridge_Envelope_init_zero;
  ASSERT_TRUE(envelope_decode(bytes.data(), bytes.size(), &e));
  ASSERT_EQ(e.which_body, opsync_bridge_Envelope_configure_tag);
  EXPECT_EQ(e.body.configure.inputs_enabled_mask, 0b0101u);
  ASSERT_EQ(e.body.configure.polarity_count, 2);
  EXPECT_EQ(e.body.configure.polarity[0], opsync_bridge_Polarity_POLARITY_BOTH);
  EXPECT_EQ(e.body.configure.polarity[1], opsync_bridge_Polarity_POLARITY_FALLING);
  EXPECT_EQ(e.body.configure.debounce_us, 250u);
  EXPECT_EQ(e.body.configure.holdoff_us, 1000u);

  pb::Envelope s;
  s.mutable_sync_request()->set_seq(77);
  s.mutable_sync_request()->set_t1_host_ns(-5);
  const Bytes sb = proto_encode(s);
  ASSERT_TRUE(envelope_decode(sb.data(), sb.size(), &e));
  ASSERT_EQ(e.which_body, opsync_bridge_Envelope_sync_request_tag);
  EXPECT_EQ(e.body.sync_request.seq, 77u);
  EXPECT_EQ(e.body.sync_request.t1_host_ns, -5);
}

TEST(FwNanopb, RejectsWhatDoesNotFitTheBounds) {
  Envelope e = opsync_bridge_Envelope_init_zero;
  // Five polarities: bridge.options allows four.
  pb::Envelope c;
  for (int i = 0; i < 5; ++i) c.mutable_configure()->add_polarity(pb::POLARITY_RISING);
  Bytes bytes = proto_encode(c);
  EXPECT_FALSE(envelope_decode(bytes.data(), bytes.size(), &e));
  // A string longer than its bound.
  pb::Envelope h;
  h.mutable_hello()->set_firmware_version(std::string(30, 'x'));
  bytes = proto_encode(h);
  EXPECT_FALSE(envelope_decode(bytes.data(), bytes.size(), &e));
  // Not protobuf at all.
  const Bytes junk{0xFF, 0xFF, 0xFF};
  EXPECT_FALSE(envelope_decode(junk.data(), junk.size(), &e));
  // No body at all is a valid (empty) envelope; the core answers it with UNKNOWN_MESSAGE.
  EXPECT_TRUE(envelope_decode(nullptr, 0, &e));
  EXPECT_EQ(e.which_body, 0);
  // Too small an output buffer fails instead of overrunning.
  Pair p;
  p.nano.which_body = opsync_bridge_Envelope_sync_reply_tag;
  p.nano.body.sync_reply = {1, -1, UINT64_MAX, UINT64_MAX};
  uint8_t small[10];
  size_t n = 0;
  EXPECT_FALSE(envelope_encode(p.nano, small, sizeof small, &n));
}

}  // namespace
}  // namespace opsync::fw
