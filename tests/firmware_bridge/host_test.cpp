// The host build's parts: the simulated timer (model, inverse), edge files and pulse trains, and
// HostPort running the core on a fake clock: overflow flag emulation, edges straddling timer
// wraps stamped with the true 64-bit count, truth rows, and the link's delay and order.
#include "host/host_port.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "clock/clock.h"
#include "core/bridge_core.h"
#include "drivers/bridge/bridge_codec.h"
#include "daemon/drivers/bridge/fake_host.h"
#include "host/edge_script.h"
#include "host/sim_tick_clock.h"
#include "host/truth_log.h"

namespace opsync::fw::host {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int64_t kS = 1'000'000'000;
constexpr uint64_t k2to32 = uint64_t{1} << 32;

TEST(FwHostTickClock, ModelAndInverse) {
  SimTickOptions o;
  o.tick_hz = 168'000'000;
  o.drift_ppm = 80;
  o.offset_ns = 7200 * kS + 123;
  o.tick0 = 5;
  o.origin_ns = kT0;
  const SimTickClock c(o);
  // 1 s of reference time is 1.00008 s of device time.
  EXPECT_EQ(c.tick_at(kT0 + kS) - c.tick_at(kT0), 168'013'440u);
  EXPECT_EQ(c.tick_at(kT0), 5 + static_cast<uint64_t>((7200.0 * 1e9 + 123) * 0.168));
  for (uint64_t k = 280; k < 290; ++k) {
    const uint64_t tick = k * k2to32;
    const int64_t t = c.time_of_tick(tick);
    EXPECT_GE(c.tick_at(t), tick);
    EXPECT_LT(c.tick_at(t - 1), tick);
  }
  // Before the timer started: 0.
  SimTickOptions early;
  early.origin_ns = kT0;
  EXPECT_EQ(SimTickClock(early).tick_at(kT0 - kS), 0u);
}

TEST(FwHostEdgeScript, FileAndPulseTrains) {
  std::vector<ScriptedEdge> edges;
  std::string error;
  ASSERT_TRUE(parse_edge_file("# scan\n1.5 0 rising\n  1.6,2,r # frame\n\n2 0 falling\n", kT0, edges, error)) << error;
  ASSERT_EQ(edges.size(), 3u);
  EXPECT_EQ(edges[0].t_ns, kT0 + 1'500'000'000);
  EXPECT_EQ(edges[1].input, 2);
  EXPECT_EQ(edges[1].kind, EdgeKind::rising);
  EXPECT_EQ(edges[2].kind, EdgeKind::falling);
  EXPECT_FALSE(parse_edge_file("1 4 rising\n", kT0, edges, error));
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
  EXPECT_FALSE(parse_edge_file("ok\n", kT0, edges, error));
  EXPECT_FALSE(parse_edge_file("1 0 sideways\n", kT0, edges, error));

  PulseTrain train;
  ASSERT_TRUE(parse_pulse_train("2:20", kT0, train, error)) << error;
  EXPECT_EQ(train.period_ns, 20'000'000);
  EXPECT_EQ(train.width_ns, 10'000'000);
  EXPECT_EQ(train.start_ns, kT0 + kS);
  EXPECT_EQ(train.count, 0u);
  ASSERT_TRUE(parse_pulse_train("0:2000:850:1.5:3", kT0, train, error)) << error;
  EXPECT_EQ(train.count, 3u);
  EXPECT_FALSE(parse_pulse_train("0:10:20", kT0, train, error));  // wider than the period
  EXPECT_FALSE(parse_pulse_train("5:10", kT0, train, error));

  // Merged in time order: three pulses of the train and the file's edges.
  EdgeSchedule s;
  s.add(train);
  s.add(edges);
  std::vector<int64_t> times;
  while (s.next_ns() != kNever) times.push_back(s.pop().t_ns - kT0);
  EXPECT_EQ(times, (std::vector<int64_t>{1'500'000'000, 1'500'000'000, 1'600'000'000, 2'000'000'000, 2'350'000'000,
                                         3'500'000'000, 4'350'000'000, 5'500'000'000, 6'350'000'000}));
}

TEST(FwHostPort, EdgesAroundTimerWrapsCarryTheTrue64BitTick) {
  clock::FakeClock clock(kT0);
  HostPortOptions o;
  o.tick.tick_hz = 168'000'000;
  o.tick.offset_ns = 3 * 3600 * kS;  // the board has been on for three hours: high word 423
  o.tick.drift_ppm = -37;
  o.isr_latency_ns = 200;
  const SimTickClock probe([&] {
    SimTickOptions t = o.tick;
    t.origin_ns = kT0;
    return t;
  }());
  // Transitions 1 tick before, at, and 1 tick after each of the next three wraps, plus one
  // 150 ns before a wrap: its interrupt runs after the wrap, with the overflow flag pending.
  std::vector<ScriptedEdge> script;
  const uint64_t first_wrap = (probe.tick_at(kT0) / k2to32 + 1) * k2to32;
  for (uint64_t w = 0; w < 3; ++w) {
    const int64_t t_wrap = probe.time_of_tick(first_wrap + w * k2to32);
    for (int64_t dt : {-150, -6, 0, 6}) {
      script.push_back(ScriptedEdge{t_wrap + dt, static_cast<uint8_t>(w % 4), EdgeKind::rising});
    }
  }
  EdgeSchedule schedule;
  schedule.add(script);
  std::vector<TruthEdge> truth;
  HostPort port(clock, o, std::move(schedule), [&](const TruthEdge& e) { truth.push_back(e); });
  EXPECT_EQ(port.tick_high_at_start(), probe.tick_at(kT0) >> 32);
  CoreOptions co;
  co.tick_high_at_start = port.tick_high_at_start();
  BridgeCore core(port, co);
  port.attach(core);
  core.start();
  core.edges().set_running(true);

  std::vector<uint8_t> wire;
  const int64_t end = probe.time_of_tick(first_wrap + 3 * k2to32) + kS;
  for (int64_t t = kT0; t < end;) {
    clock.set(t);
    port.run_interrupts(t);
    core.poll();
    const std::vector<uint8_t> out = port.to_host(t);
    wire.insert(wire.end(), out.begin(), out.end());
    // The core's view of time must equal the simulated timer's at every main-loop pass.
    ASSERT_EQ(core.now_tick(), probe.tick_at(t));
    t = std::min(port.next_event_ns(), t + 7 * kS);
  }
  port.flush_truth();

  ASSERT_EQ(truth.size(), script.size());
  EXPECT_EQ(port.detections_without_truth(), 0u);
  std::vector<uint64_t> sent_ticks;
  for (const auto& f : drivers::bridge::testing::decode_frames(wire)) {
    if (f.has_edge()) sent_ticks.push_back(f.edge().tick());
  }
  ASSERT_EQ(sent_ticks.size(), script.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    EXPECT_EQ(truth[i].fate, EdgeFate::sent);
    EXPECT_EQ(truth[i].seq, i);
    EXPECT_EQ(truth[i].tick, probe.tick_at(script[i].t_ns));
    EXPECT_EQ(sent_ticks[i], truth[i].tick) << "edge " << i << ", " << static_cast<int64_t>(sent_ticks[i] - truth[i].tick)
                                            << " ticks off";
  }
  EXPECT_EQ(truth[2].tick % k2to32, 0u);  // the edge exactly at the first wrap
  EXPECT_EQ(format_truth_row(truth[2]).substr(0, 2), "2,");
}

TEST(FwHostPort, LinkDelaysWithinTheJitterAndKeepsOrder) {
  clock::FakeClock clock(kT0);
  HostPortOptions o;
  o.jitter_ns = 1'000'000;
  o.seed = 3;
  HostPort port(clock, o, EdgeSchedule{});
  CoreOptions co;
  co.tick_high_at_start = port.tick_high_at_start();
  BridgeCore core(port, co);
  port.attach(core);
  core.start();

  // Pings every 10 ms; each reply's t2 tells when the core saw it.
  std::vector<int64_t> sent_at;
  std::vector<int64_t> arrival;
  for (int64_t t = kT0; t < kT0 + 2 * kS; t += 100'000) {
    clock.set(t);
    if ((t - kT0) % 10'000'000 == 0) {
      drivers::bridge::Envelope ping;
      ping.mutable_sync_request()->set_seq(static_cast<uint32_t>(sent_at.size()));
      ping.mutable_sync_request()->set_t1_host_ns(t);
      port.from_host(drivers::bridge::encode_envelope_frame(ping), t);
      sent_at.push_back(t);
    }
    port.run_interrupts(t);
    core.poll();
    const auto out = port.to_host(t);
    for (const auto& f : drivers::bridge::testing::decode_frames(out)) {
      if (f.has_sync_reply()) arrival.push_back(t - f.sync_reply().t1_host_ns());
    }
  }
  ASSERT_GE(arrival.size(), 195u);
  int64_t max_rtt = 0, min_rtt = INT64_MAX;
  for (int64_t rtt : arrival) {
    max_rtt = std::max(max_rtt, rtt);
    min_rtt = std::min(min_rtt, rtt);
  }
  // Two legs of 0..1 ms each, seen at 0.1 ms steps.
  EXPECT_LE(max_rtt, 2'100'000);
  EXPECT_GE(min_rtt, 0);
  EXPECT_GT(max_rtt - min_rtt, 1'000'000) << "the jitter should show";
}

}  // namespace
}  // namespace opsync::fw::host
