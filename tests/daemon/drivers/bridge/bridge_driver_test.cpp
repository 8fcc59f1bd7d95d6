// BridgeDriver against a scripted host and a scripted device (frames built here from a known
// linear device clock, no simulator): what it sends, how it maps edges, scans, and how it copes
// with gaps, bad frames and silence.
#include "drivers/bridge/bridge_driver.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "drivers/bridge/bridge_codec.h"
#include "drivers/bridge/crc.h"
#include "fake_host.h"

namespace opsync::drivers::bridge {
namespace {

using Bytes = std::vector<uint8_t>;
using testing::FakeHost;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;  // a realistic reference epoch
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

// A device with an exactly known clock, answering pings after fixed, symmetric link delays.
struct ScriptedDevice {
  double tick_hz = 168e6;
  double drift_ppm = 50;
  uint64_t tick0 = 5'000'000'000;
  int64_t up_ns = 300'000;
  int64_t down_ns = 300'000;
  int64_t processing_ns = 20'000;

  uint64_t tick(int64_t t_ns) const {
    const double dt = static_cast<double>(t_ns - kT0);
    return tick0 + static_cast<uint64_t>(std::floor(dt * (1 + drift_ppm * 1e-6) * tick_hz / 1e9));
  }
};

struct Harness {
  explicit Harness(BridgeConfig config = {}) : driver(config) {}

  BridgeDriver driver;
  FakeHost host;
  ScriptedDevice dev;
  bool answer_pings = true;
  uint32_t next_edge_seq = 0;
  std::multimap<int64_t, Bytes> to_driver;  // arrival time -> bytes
  std::vector<Envelope> pings;              // SyncRequests seen
  std::vector<int64_t> emitted_at_ns;       // reference time of the call that emitted each sample

  void deliver_at(int64_t t_ns, const Envelope& e) { to_driver.emplace(t_ns, encode_envelope_frame(e)); }

  void edge(int64_t t_true_ns, uint32_t input, EdgeKind kind = EDGE_KIND_RISING, int64_t latency_ns = 200'000) {
    Envelope e;
    e.mutable_edge()->set_seq(next_edge_seq++);
    e.mutable_edge()->set_input(input);
    e.mutable_edge()->set_edge(kind);
    e.mutable_edge()->set_tick(dev.tick(t_true_ns));
    deliver_at(t_true_ns + latency_ns, e);
  }

  void answer(const std::vector<uint8_t>& sent, int64_t t_ns) {
    for (const Envelope& e : testing::decode_frames(sent)) {
      if (e.body_case() != Envelope::kSyncRequest) continue;
      pings.push_back(e);
      if (!answer_pings) continue;
      const int64_t t_rx = t_ns + dev.up_ns;
      Envelope r;
      r.mutable_sync_reply()->set_seq(e.sync_request().seq());
      r.mutable_sync_reply()->set_t1_host_ns(e.sync_request().t1_host_ns());
      r.mutable_sync_reply()->set_t2_tick(dev.tick(t_rx));
      r.mutable_sync_reply()->set_t3_tick(dev.tick(t_rx + dev.processing_ns));
      deliver_at(t_rx + dev.processing_ns + dev.down_ns, r);
    }
  }

  void run_until(int64_t t_end_ns) {
    for (;;) {
      const int64_t t_tick = driver.next_deadline_ns();
      const int64_t t_rx = to_driver.empty() ? drivers::kNoDeadline : to_driver.begin()->first;
      const int64_t t = std::min(t_tick, t_rx);
      if (t > t_end_ns) return;
      if (t_rx <= t_tick) {
        const Bytes bytes = to_driver.begin()->second;
        to_driver.erase(to_driver.begin());
        driver.on_bytes(host, bytes, t);
      } else {
        driver.on_tick(host, t);
      }
      emitted_at_ns.resize(host.samples.size(), t);
      answer(host.take_sent_bytes(), t);
    }
  }
};

TEST(BridgeDriver, ConnectSendsStatusRequestConfigureStart) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  EXPECT_EQ(h.host.sent.size(), 3u);
  size_t bad = 0;
  const std::vector<Envelope> sent = testing::decode_frames(h.host.take_sent_bytes(), &bad);
  EXPECT_EQ(bad, 0u);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].body_case(), Envelope::kStatusRequest);
  ASSERT_EQ(sent[1].body_case(), Envelope::kConfigure);
  const Configure& c = sent[1].configure();
  EXPECT_EQ(c.inputs_enabled_mask(), 0b0111u);  // default roles: inputs 0, 1, 2
  ASSERT_EQ(c.polarity_size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.polarity(i), POLARITY_RISING);
  EXPECT_EQ(c.debounce_us(), 0u);
  EXPECT_EQ(c.holdoff_us(), 0u);
  EXPECT_EQ(sent[2].body_case(), Envelope::kStart);
  EXPECT_EQ(h.driver.next_deadline_ns(), kT0) << "first ping is due at once";
  EXPECT_EQ(h.driver.kind(), "bridge");
  ASSERT_EQ(h.driver.channels().size(), 1u);
  EXPECT_EQ(h.driver.channels()[0].name, "trigger_edges");
}

TEST(BridgeDriver, GateRoleAndConfigValuesAreSent) {
  BridgeConfig cfg;
  cfg.scan_start_input = 3;
  cfg.scan_end_input = 3;
  cfg.detector_frame_input = 1;
  cfg.debounce_us = 4;
  cfg.holdoff_us = 250;
  Harness h(cfg);
  h.driver.on_connect(h.host, kT0);
  const std::vector<Envelope> sent = testing::decode_frames(h.host.take_sent_bytes());
  ASSERT_EQ(sent.size(), 3u);
  const Configure& c = sent[1].configure();
  EXPECT_EQ(c.inputs_enabled_mask(), 0b1010u);
  EXPECT_EQ(c.polarity(3), POLARITY_BOTH) << "one gate input: rising starts, falling ends";
  EXPECT_EQ(c.polarity(1), POLARITY_RISING);
  EXPECT_EQ(c.debounce_us(), 4u);
  EXPECT_EQ(c.holdoff_us(), 250u);
}

TEST(BridgeDriver, PingsEveryPeriodWithT1AtSend) {
  for (const int64_t period_ns : {BridgeConfig{}.sync_period_ns, 100 * kMs}) {
    SCOPED_TRACE(period_ns);
    BridgeConfig cfg;
    cfg.sync_period_ns = period_ns;
    Harness h(cfg);
    h.answer_pings = false;
    h.driver.on_connect(h.host, kT0);
    h.host.take_sent_bytes();
    h.run_until(kT0 + 4 * period_ns + period_ns / 2);
    ASSERT_EQ(h.pings.size(), 5u);  // at 0, 1, 2, 3, 4 periods
    for (size_t i = 0; i < h.pings.size(); ++i) {
      EXPECT_EQ(h.pings[i].sync_request().seq(), i + 1);
      EXPECT_EQ(h.pings[i].sync_request().t1_host_ns(), kT0 + static_cast<int64_t>(i) * period_ns);
    }
    EXPECT_EQ(h.driver.next_deadline_ns(), kT0 + 5 * period_ns);
    EXPECT_EQ(h.driver.stats().sync_sent, 5u);
  }
}

TEST(BridgeDriver, FitKeepsTheSyncWindowOfExchanges) {
  BridgeConfig cfg;
  cfg.sync_period_ns = 100 * kMs;
  cfg.sync_window_ns = 5 * kS;
  Harness h(cfg);
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  h.run_until(kT0 + 3 * kS);
  EXPECT_EQ(h.driver.regression().points(), 30u);  // pings at 0..2.9 s, answered by 3 s
  h.run_until(kT0 + 20 * kS);
  EXPECT_EQ(h.driver.regression().points(), 50u);  // 5 s / 100 ms
  EXPECT_EQ(h.driver.sync_exchanges().size(), 200u);  // every exchange is still kept
}

TEST(BridgeDriver, HoldsEdgesUntilTheFitSettlesThenMapsThemExactly) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  // Edges from the very start, before any sync reply.
  std::vector<int64_t> truth;
  for (int i = 0; i < 40; ++i) {
    const int64_t t = kT0 + 1 * kMs + static_cast<int64_t>(i) * 123'457'111;  // ~0.12 s apart, off the ping grid
    truth.push_back(t);
    h.edge(t, 2);
  }
  h.run_until(kT0 + 9900 * kMs);
  EXPECT_TRUE(h.host.samples.empty()) << "no edge is stamped before the fit spans fit_settle_ns (10 s)";
  EXPECT_EQ(h.driver.pending_edges(), truth.size());
  h.run_until(kT0 + 11 * kS);
  ASSERT_EQ(h.host.samples.size(), truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    EXPECT_EQ(h.host.samples[i].channel, 0u);
    EXPECT_EQ(h.host.samples[i].value, 2.0);
    // Symmetric delays and an exact clock: only tick rounding and the fit's arithmetic remain.
    EXPECT_NEAR(static_cast<double>(h.host.samples[i].t_ns - truth[i]), 0.0, 1000.0) << "edge " << i;
  }
  EXPECT_NEAR(h.driver.regression().drift_ppm(), h.dev.drift_ppm, 0.5);
  EXPECT_EQ(h.driver.stats().edges_lost, 0u);

  // Once settled, an edge waits until the fit has map_delay_ns (4 s) of pings after its arrival.
  const int64_t t_late = kT0 + 12 * kS + 345'678;
  h.edge(t_late, 1, EDGE_KIND_RISING, 200'000);
  h.run_until(kT0 + 18 * kS);
  ASSERT_EQ(h.host.samples.size(), truth.size() + 1);
  const int64_t waited_ns = h.emitted_at_ns.back() - (t_late + 200'000);
  EXPECT_GE(waited_ns, 4 * kS);
  EXPECT_LT(waited_ns, 4 * kS + 101 * kMs) << "released by the first reply after the delay";
  EXPECT_NEAR(static_cast<double>(h.host.samples.back().t_ns - t_late), 0.0, 1000.0);
}

TEST(BridgeDriver, HelloTickRateReplacesTheNominalRate) {
  Harness h;  // config says 168 MHz
  h.dev.tick_hz = 100e6;
  h.dev.drift_ppm = -30;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  Envelope hello;
  hello.mutable_hello()->set_protocol_version(kProtocolVersion);
  hello.mutable_hello()->set_firmware_version("test");
  hello.mutable_hello()->set_tick_hz(100'000'000);
  hello.mutable_hello()->set_input_count(4);
  h.deliver_at(kT0 + 100'000, hello);
  const int64_t t_edge = kT0 + 3 * kS + 777'777;
  h.edge(t_edge, 0);
  h.run_until(kT0 + 12 * kS);
  EXPECT_DOUBLE_EQ(h.driver.config().tick_hz, 100e6);
  EXPECT_NEAR(h.driver.regression().drift_ppm(), -30.0, 0.5);
  ASSERT_EQ(h.host.samples.size(), 1u);
  EXPECT_NEAR(static_cast<double>(h.host.samples[0].t_ns - t_edge), 0.0, 1000.0);
  EXPECT_EQ(h.host.count("hello"), 1u);
  EXPECT_EQ(h.host.count("protocol_mismatch"), 0u);
}

TEST(BridgeDriver, AssemblesScansFromRoleEdges) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  const int64_t start = kT0 + 3 * kS + 10'001;
  h.edge(start, 0);
  for (int k = 0; k < 3; ++k) h.edge(start + (k + 1) * 20 * kMs, 2);
  const int64_t end = start + 100 * kMs + 3;
  h.edge(end, 1);
  h.edge(end + 50 * kMs, 2);  // a frame outside any scan
  h.run_until(kT0 + 12 * kS);
  ASSERT_EQ(h.host.scans.size(), 1u);
  const records::Scan& s = h.host.scans[0];
  EXPECT_EQ(s.number, 1);
  EXPECT_EQ(s.label, "scan 1: 3 frames");
  EXPECT_NEAR(static_cast<double>(s.start_ns - start), 0.0, 1000.0);
  EXPECT_NEAR(static_cast<double>(s.end_ns - end), 0.0, 1000.0);
  EXPECT_EQ(h.host.count("scan_start"), 1u);
  ASSERT_NE(h.host.first_event("scan_end"), nullptr);
  EXPECT_EQ(h.host.first_event("scan_end")->detail, "scan 1: 3 frames");
  EXPECT_EQ(h.driver.stats().frames_outside_scan, 1u);
  EXPECT_EQ(h.host.samples.size(), 6u);
}

TEST(BridgeDriver, SequenceGapIsReportedAsLostEdges) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  h.edge(kT0 + 10 * kMs, 2);
  h.edge(kT0 + 20 * kMs, 2);
  h.next_edge_seq += 2;  // the device's edges 2 and 3 never arrive
  h.edge(kT0 + 30 * kMs, 2);
  h.run_until(kT0 + 11 * kS);
  EXPECT_EQ(h.driver.stats().edges_lost, 2u);
  const opsync::test::RecordedEvent* lost = h.host.first_event("edges_lost");
  ASSERT_NE(lost, nullptr);
  EXPECT_NE(lost->detail.find("2 edges lost before edge seq 4"), std::string::npos) << lost->detail;
  EXPECT_EQ(h.host.samples.size(), 3u);
}

// A link that reorders frames (as `opsync sim` did at 10 kHz) makes every swapped pair look like
// a restart: 100,361 edge_seq_reset events in one 40 s run. They are rate limited like the other
// per-message events, counted, and the count is said.
TEST(BridgeDriver, EdgeSeqResetsAreRateLimitedAndCounted) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  constexpr int kPairs = 200;
  for (int i = 0; i < kPairs; ++i) {
    // Each pair arrives swapped: seq 2i+1 before 2i.
    const int64_t t = kT0 + 10 * kMs + i * 100'000;
    h.next_edge_seq = static_cast<uint32_t>(2 * i + 1);
    h.edge(t, 2);
    h.next_edge_seq = static_cast<uint32_t>(2 * i);
    h.edge(t + 10'000, 2);
  }
  h.run_until(kT0 + 500 * kMs);
  EXPECT_EQ(h.driver.stats().edge_seq_resets, static_cast<uint64_t>(kPairs));
  EXPECT_EQ(h.host.count("edge_seq_reset"), 5u) << "at most max_events_per_s per kind";
  const opsync::test::RecordedEvent* first = h.host.first_event("edge_seq_reset");
  ASSERT_NE(first, nullptr);
  EXPECT_NE(first->detail.find("edge seq went back from 1 to 0"), std::string::npos) << first->detail;
  const auto& c = h.driver.counters();
  EXPECT_EQ(c.events_suppressed_by_kind.at("edge_seq_reset"), static_cast<uint64_t>(kPairs - 5));
  EXPECT_LE(h.host.count("edges_lost"), 5u);
  uint64_t by_kind = 0;
  for (const auto& [kind, n] : c.events_suppressed_by_kind) by_kind += n;
  EXPECT_EQ(c.events_suppressed, by_kind);
  // Once the second is over, one event says how many were left out.
  h.run_until(kT0 + 1500 * kMs);
  ASSERT_EQ(h.host.count("edge_seq_reset"), 6u);
  std::string last;
  for (const auto& e : h.host.events) {
    if (e.kind == "edge_seq_reset") last = e.detail;
  }
  EXPECT_NE(last.find(std::to_string(kPairs - 5) + " more suppressed"), std::string::npos) << last;
}

TEST(BridgeDriver, HeartbeatDropIncreaseIsReported) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  Envelope hb;
  hb.mutable_heartbeat()->mutable_counters()->set_edges_dropped(4);  // before our session: baseline
  h.deliver_at(kT0 + 1 * kS, hb);
  hb.mutable_heartbeat()->mutable_counters()->set_edges_dropped(7);
  h.deliver_at(kT0 + 2 * kS, hb);
  h.run_until(kT0 + 3 * kS);
  EXPECT_EQ(h.driver.stats().edges_dropped, 3u);
  ASSERT_EQ(h.host.count("edges_dropped"), 1u);
  EXPECT_NE(h.host.first_event("edges_dropped")->detail.find("3 edges"), std::string::npos);
}

TEST(BridgeDriver, BadFramesAreCountedAndEventsRateLimited) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  Envelope e;
  e.mutable_edge()->set_seq(0);
  Bytes body = encode_envelope(e);
  const uint32_t bad_crc = crc32c(body.data(), body.size()) ^ 0x80u;
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<uint8_t>(bad_crc >> (8 * i)));
  Bytes burst;
  for (int i = 0; i < 100; ++i) append_cobs_frame(body, burst);
  const Bytes garbage = {0x11, 0x22, 0x00, 0x00, 0x03, 0x01, 0x00};  // COBS error, empty, too short
  EXPECT_NO_THROW(h.driver.on_bytes(h.host, burst, kT0 + 10 * kMs));
  EXPECT_NO_THROW(h.driver.on_bytes(h.host, garbage, kT0 + 11 * kMs));
  EXPECT_EQ(h.driver.counters().crc_errors, 100u);
  EXPECT_EQ(h.driver.counters().malformed, 2u);
  EXPECT_EQ(h.host.count("crc_error"), 5u) << "at most max_events_per_s per kind";
  EXPECT_EQ(h.host.count("malformed"), 2u);
  EXPECT_EQ(h.driver.counters().events_suppressed, 95u);
  EXPECT_EQ(h.driver.counters().events_suppressed_by_kind.at("crc_error"), 95u);
  // The rest are summed up once the second is over.
  h.driver.on_tick(h.host, kT0 + 1200 * kMs);
  ASSERT_EQ(h.host.count("crc_error"), 6u);
  EXPECT_NE(h.host.events.back().detail.find("95 more suppressed"), std::string::npos) << h.host.events.back().detail;
  // A valid frame after all that is still read.
  Envelope hb;
  hb.mutable_heartbeat()->set_tick(1);
  h.driver.on_bytes(h.host, encode_envelope_frame(hb), kT0 + 1300 * kMs);
  EXPECT_EQ(h.driver.counters().messages_ok, 1u);
}

TEST(BridgeDriver, SilenceForThreeSecondsRequestsOneReconnect) {
  Harness h;
  h.answer_pings = false;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  h.run_until(kT0 + 2900 * kMs);
  EXPECT_TRUE(h.host.reconnects.empty());
  // Pings older than sync_timeout (1 s) count as timeouts: those sent at 0..1.9 s.
  const int64_t period_ns = h.driver.config().sync_period_ns;
  EXPECT_EQ(h.driver.counters().timeouts, static_cast<uint64_t>(1900 * kMs / period_ns + 1));
  h.run_until(kT0 + 6 * kS);
  ASSERT_EQ(h.host.reconnects.size(), 1u);
  EXPECT_EQ(h.host.count("timeout"), 1u);
  EXPECT_EQ(h.host.first_event("timeout")->t_ns, kT0 + 3 * kS);
}

TEST(BridgeDriver, UnmatchedRepliesAreIgnored) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  Envelope r;
  r.mutable_sync_reply()->set_seq(999);
  r.mutable_sync_reply()->set_t1_host_ns(kT0);
  h.driver.on_bytes(h.host, encode_envelope_frame(r), kT0 + kMs);
  EXPECT_EQ(h.driver.stats().sync_unmatched, 1u);
  EXPECT_TRUE(h.driver.sync_exchanges().empty());
  EXPECT_FALSE(h.driver.regression().valid());
}

TEST(BridgeDriver, KeepsEverySyncExchange) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  h.run_until(kT0 + 1 * kS);
  const auto& x = h.driver.sync_exchanges();
  const int64_t period_ns = h.driver.config().sync_period_ns;
  ASSERT_EQ(x.size(), static_cast<size_t>(kS / period_ns));  // pings in [0, 1 s), each answered 0.64 ms later
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t t1 = kT0 + static_cast<int64_t>(i) * period_ns;
    EXPECT_EQ(x[i].t1_ref_ns, t1);
    EXPECT_EQ(x[i].t4_ref_ns, t1 + h.dev.up_ns + h.dev.processing_ns + h.dev.down_ns);
    EXPECT_EQ(static_cast<uint64_t>(x[i].t2_src), h.dev.tick(t1 + h.dev.up_ns));
    EXPECT_EQ(static_cast<uint64_t>(x[i].t3_src), h.dev.tick(t1 + h.dev.up_ns + h.dev.processing_ns));
  }
  EXPECT_EQ(h.driver.stats().sync_replies, x.size());
}

TEST(BridgeDriver, ClockModelEveryFewSecondsAndAtDisconnect) {
  Harness h;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  h.run_until(kT0 + 11 * kS);
  ASSERT_EQ(h.host.clock_models.size(), 2u);  // at 5 s and 10 s
  for (const records::ClockModel& m : h.host.clock_models) {
    EXPECT_EQ(m.method, "regression");
    EXPECT_GT(m.n_points, 10);
    // rate = reference ns per tick = 1e9 / (168e6 x (1 + 50 ppm))
    EXPECT_NEAR(m.rate, 1e9 / (168e6 * (1 + 50e-6)), 1e-9);
  }
  EXPECT_EQ(h.host.clock_models[0].fitted_at_ns, kT0 + 5 * kS);
  h.driver.on_disconnect(h.host, kT0 + 11 * kS);
  ASSERT_EQ(h.host.clock_models.size(), 3u);
  EXPECT_EQ(h.host.clock_models.back().fitted_at_ns, kT0 + 11 * kS);
  EXPECT_EQ(h.driver.next_deadline_ns(), drivers::kNoDeadline);
}

TEST(BridgeDriver, DisconnectWithoutAnyFitStampsEdgesAtArrival) {
  Harness h;
  h.answer_pings = false;
  h.driver.on_connect(h.host, kT0);
  h.host.take_sent_bytes();
  h.edge(kT0 + 10 * kMs, 2, EDGE_KIND_RISING, 300'000);
  h.edge(kT0 + 20 * kMs, 2, EDGE_KIND_RISING, 300'000);
  h.run_until(kT0 + 500 * kMs);
  EXPECT_TRUE(h.host.samples.empty());
  h.driver.on_disconnect(h.host, kT0 + 500 * kMs);
  ASSERT_EQ(h.host.samples.size(), 2u);
  EXPECT_EQ(h.host.samples[0].t_ns, kT0 + 10 * kMs + 300'000);
  EXPECT_EQ(h.host.samples[1].t_ns, kT0 + 20 * kMs + 300'000);
  EXPECT_EQ(h.driver.stats().edges_unmapped, 2u);
  EXPECT_EQ(h.host.count("edges_unmapped"), 1u);
}

}  // namespace
}  // namespace opsync::drivers::bridge
