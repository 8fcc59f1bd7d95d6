// Hardware-in-the-loop with the bridge firmware's own core: opsyncd (its bridge driver as it is,
// default settings) records opsync-bridge-host over a pseudo-terminal, at 1x, both on one shared
// reference clock, until every edge the script makes the core send is in the store (~25 s; the
// test waits for the store, not for a time). Checks that every scripted edge arrives once, in order, with the tick
// the core latched (also across a timer wrap), that scans are assembled from them, and that the
// mapped times are near the truth the host build writes.
//
// Why 1x and not an accelerated simulation clock (which --clock-file would allow): the point is
// the timing path as it is on hardware (pings every 20 ms, the driver's 10 s settling and 4 s
// mapping delay, 0..1 ms of link jitter), and at N x speed every microsecond of host scheduling
// is N microseconds of simulated time, so "near truth" could only be checked to N times the
// tolerance. The shared clock file is used at speed 1: truth and record on exactly one clock.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/bridge_host_session.h"
#include "common/bridge_record.h"

namespace opsync::hil {
namespace {

namespace fs = std::filesystem;

constexpr double kTickHz = 168e6;
constexpr double kDriftPpm = -80;
constexpr double kOffsetS = 7200;  // the board has been on for two hours
constexpr double kWrapS = 13.4;    // the 32-bit timer wraps here, inside scan 6
constexpr int kScans = 10;
constexpr int kFramesPerScan = 40;

// Timer count at start that puts a 32-bit wrap at kWrapS; *wrap_tick is the 64-bit tick there.
uint64_t tick0_for_wrap(uint64_t* wrap_tick) {
  const long double ticks = (static_cast<long double>(kWrapS) * (1.0L + static_cast<long double>(kDriftPpm) * 1e-6L) +
                             static_cast<long double>(kOffsetS)) *
                            static_cast<long double>(kTickHz);
  const auto n = static_cast<uint64_t>(std::floor(ticks));
  *wrap_tick = ((n >> 32) + 1) << 32;
  return *wrap_tick - n;
}

struct Scripted {
  double t_s;
  uint32_t input;
  bool rising;
};

// Scans every 2 s from 3 s: start pulse on input 0, 40 detector frames on input 2 (19.7 ms
// apart, so they fall at every phase of the 100 ms pings), end pulse on input 1; three more
// frames just before, just after (0.5 us) and after the timer wrap.
std::vector<Scripted> script() {
  std::vector<Scripted> e;
  auto pulse = [&](double t, uint32_t input, double width) {
    e.push_back({t, input, true});
    e.push_back({t + width, input, false});
  };
  for (int k = 0; k < kScans; ++k) {
    const double t = 3.0 + 2.0 * k;
    pulse(t, 0, 0.005);
    for (int j = 0; j < kFramesPerScan; ++j) pulse(t + 0.010 + 0.0197 * j, 2, 0.002);
    pulse(t + 0.850, 1, 0.005);
  }
  for (double t : {kWrapS - 0.0005, kWrapS + 0.0000005, kWrapS + 0.0005}) pulse(t, 2, 0.0002);
  return e;
}

TEST(HilBridgeHost, DriverRecordsEveryEdgeOfTheFirmwareCoreOnce) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("opsync_hil_bridge_host_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<Scripted> scripted = script();
  {
    std::ofstream edges(dir / "edges.txt");
    for (const Scripted& s : scripted) edges << fmt::format("{:.7f} {} {}\n", s.t_s, s.input, s.rising ? "r" : "f");
  }
  uint64_t wrap_tick = 0;
  const uint64_t tick0 = tick0_for_wrap(&wrap_tick);

  test::BridgeHostSessionOptions o;
  o.dir = dir;
  o.host_binary = OPSYNC_BRIDGE_HOST_BINARY;
  o.daemon_binary = OPSYNCD_BINARY;
  // opsyncd runs until every edge the script makes it send is in the store (the last ones are
  // mapped once the clock fit covers them, ~4 s after), then is stopped; 150 s bounds a hang.
  o.seconds = 150;
  o.host_args = {"--drift-ppm", fmt::format("{}", kDriftPpm), "--offset-s", fmt::format("{}", kOffsetS),
                 "--tick0",     std::to_string(tick0),        "--jitter-us", "1000",
                 "--seed",      "7",                          "--edges",     (dir / "edges.txt").string()};
  size_t rising_scripted = 0;
  for (const Scripted& e : scripted) rising_scripted += e.rising;
  const fs::path db = dir / "station.db";
  o.done = [&db, rising_scripted] { return test::stored_trigger_edges(db) >= rising_scripted; };
  const test::BridgeHostSession s = test::run_bridge_host_session(o);
  ASSERT_EQ(s.error, "");
  ASSERT_EQ(s.daemon_rc, 0) << "opsyncd did not end cleanly; see " << s.daemon_log;
  ASSERT_EQ(s.host_rc, 0) << "opsync-bridge-host did not end cleanly; see " << s.host_log;

  // The truth: every scripted transition; the rising ones (the driver configures rising edges on
  // inputs 0, 1, 2) were sent, the falling ones filtered.
  const std::vector<test::TruthRow> truth = test::read_bridge_truth(s.truth);
  ASSERT_EQ(truth.size(), scripted.size());
  for (const test::TruthRow& r : truth) {
    EXPECT_EQ(r.fate, r.rising ? "sent" : "filtered") << "edge at " << r.t_ns << " on input " << r.input;
  }
  const std::vector<test::TruthRow> sent = test::sent_edges(truth);
  const size_t expected = static_cast<size_t>(kScans * (kFramesPerScan + 2) + 3);
  ASSERT_EQ(sent.size(), expected);

  const test::BridgeRecord rec = test::read_bridge_record(s.db);
  EXPECT_EQ(rec.firmware_version.rfind("host-", 0), 0u) << rec.firmware_version;

  // On the link: each sent edge exactly once, in seq order, with the core's tick.
  ASSERT_EQ(rec.wire_edges.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    const test::WireEdge& w = rec.wire_edges[i];
    EXPECT_EQ(w.seq, *sent[i].seq) << i;
    EXPECT_EQ(w.tick, sent[i].tick) << "seq " << w.seq;
    EXPECT_EQ(w.input, sent[i].input) << "seq " << w.seq;
    EXPECT_TRUE(w.rising) << "seq " << w.seq;
  }
  // The three edges around the wrap: 64-bit ticks on both sides of it.
  size_t before_wrap = 0, after_wrap = 0;
  for (const test::WireEdge& w : rec.wire_edges) {
    before_wrap += w.tick < wrap_tick && w.tick > wrap_tick - 200'000;  // within ~1.2 ms
    after_wrap += w.tick >= wrap_tick && w.tick < wrap_tick + 200'000;
  }
  EXPECT_EQ(before_wrap, 1u);
  EXPECT_EQ(after_wrap, 2u);

  // In the store: each edge once, in order, mapped near its true time.
  ASSERT_EQ(rec.edges.size(), sent.size());
  double ss = 0, worst = 0, sum = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(rec.edges[i].input, sent[i].input) << i;
    if (i > 0) {
      EXPECT_GT(rec.edges[i].t_ns, rec.edges[i - 1].t_ns) << i;
    }
    const double err_us = static_cast<double>(rec.edges[i].t_ns - sent[i].t_ns) / 1e3;
    ss += err_us * err_us;
    sum += err_us;
    worst = std::max(worst, std::abs(err_us));
  }
  const double rms = std::sqrt(ss / static_cast<double>(sent.size()));
  const double fitted_ppm = rec.clock ? (1e9 / kTickHz / rec.clock->rate - 1) * 1e6 : NAN;
  std::printf("opsyncd vs opsync-bridge-host, 25 s at 1x: %zu edges, mapped error RMS %.1f us, max %.1f us, mean %+.1f us; "
              "fitted drift %+.2f ppm (true %+.0f)\n",
              sent.size(), rms, worst, sum / static_cast<double>(sent.size()), fitted_ppm, kDriftPpm);
  // The target (DESIGN.md), here over the whole 25 s run. Measured 5-6 us RMS, 9-16 us
  // max; 13 / 30 us with four busy loops competing for the 2 cores.
  EXPECT_LT(rms, 50.0);
  EXPECT_LT(worst, 200.0);
  ASSERT_TRUE(rec.clock.has_value());
  EXPECT_EQ(rec.clock->method, "regression");
  EXPECT_NEAR(fitted_ppm, kDriftPpm, 5.0);

  // Scans from the role edges, with their frame counts (the wrap's three frames fall in scan 6).
  ASSERT_EQ(rec.scans.size(), static_cast<size_t>(kScans));
  for (int k = 0; k < kScans; ++k) {
    const records::Scan& sc = rec.scans[static_cast<size_t>(k)];
    const size_t first = static_cast<size_t>(k * (kFramesPerScan + 2) + (k > 5 ? 3 : 0));
    EXPECT_EQ(sc.number, k + 1);
    EXPECT_EQ(sc.start_ns, rec.edges[first].t_ns);
    EXPECT_NEAR(static_cast<double>(sc.start_ns - sent[first].t_ns), 0.0, 500'000.0);
    const int frames = kFramesPerScan + (k == 5 ? 3 : 0);
    EXPECT_EQ(sc.label, fmt::format("scan {}: {} frames", k + 1, frames));
  }

  // Nothing went wrong on the way.
  const std::set<std::string> bad = {"edges_lost",     "edges_dropped", "malformed",         "crc_error",
                                     "clock_step",     "device_error",  "edges_unmapped",    "edges_held",
                                     "timeout",        "disconnected",  "protocol_mismatch", "frames_rejected",
                                     "scan_end_missing", "scan_end_without_start"};
  for (const records::Event& e : rec.events) EXPECT_EQ(bad.count(e.kind), 0u) << e.kind << ": " << e.detail;

  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace opsync::hil
