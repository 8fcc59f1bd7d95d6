// Driver and simulator wired back to back through a simulated link (latency, jitter, no
// sockets) on one simulated time line: the driver must read back the scenario's ion currents
// and stamp them within half a round trip of the true measurement mid-time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <numbers>
#include <random>
#include <vector>

#include "drivers/rga/rga_codec.h"
#include "drivers/rga/rga_driver.h"
#include "drivers/rga/rga_sim.h"
#include "fake_host.h"

namespace opsync::drivers::rga {
namespace {

using testing::FakeHost;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

// Link: 2-3 ms up, 6-7 ms down (asymmetric on purpose: the midpoint rule then errs by a known
// amount, which the test bounds).
constexpr int64_t kUpMin_ns = 2 * kMs, kUpMax_ns = 3 * kMs;
constexpr int64_t kDownMin_ns = 6 * kMs, kDownMax_ns = 7 * kMs;

// One direction of the link: bytes arrive in order after a latency drawn from [min, max].
class Pipe {
 public:
  Pipe(int64_t min_ns, int64_t max_ns, uint32_t seed) : min_ns_(min_ns), max_ns_(max_ns), rng_(seed) {}
  void push(int64_t t_ns, std::vector<uint8_t> bytes) {
    std::uniform_int_distribution<int64_t> latency(min_ns_, max_ns_);
    const int64_t due_ns = std::max(t_ns + latency(rng_), last_due_ns_);  // FIFO, like a stream
    last_due_ns_ = due_ns;
    items_.push_back({due_ns, std::move(bytes)});
  }
  int64_t next_ns() const { return items_.empty() ? kNoDeadline : items_.front().first; }
  bool due(int64_t t_ns) const { return !items_.empty() && items_.front().first <= t_ns; }
  std::pair<int64_t, std::vector<uint8_t>> pop() {
    auto item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  void clear() { items_.clear(); }

 private:
  int64_t min_ns_, max_ns_, last_due_ns_ = 0;
  std::mt19937 rng_;
  std::deque<std::pair<int64_t, std::vector<uint8_t>>> items_;
};

// Driver + simulator + two pipes, advanced event by event.
class Bench {
 public:
  Bench(RgaConfig config, RgaSimOptions options)
      : driver(std::move(config)),
        sim(std::move(options)),
        up(kUpMin_ns, kUpMax_ns, 1),
        down(kDownMin_ns, kDownMax_ns, 2) {}

  void connect() {
    sim.on_connect(t_ns);
    host.now_ns = t_ns;
    driver.on_connect(host, t_ns);
    forward_sends();
  }
  void run_until(int64_t end_ns) {
    while (true) {
      const int64_t next =
          std::min({driver.next_deadline_ns(), sim.next_deadline_ns(), up.next_ns(), down.next_ns()});
      if (next == kNoDeadline || next > end_ns) break;
      t_ns = std::max(t_ns, next);
      while (up.due(t_ns)) {
        auto [at, bytes] = up.pop();
        sim.on_bytes(bytes, at);
      }
      sim.on_tick(t_ns);
      if (auto out = sim.take_output(); !out.empty()) down.push(t_ns, std::move(out));
      while (down.due(t_ns)) {
        auto [at, bytes] = down.pop();
        host.now_ns = at;
        driver.on_bytes(host, bytes, at);
        forward_sends();
      }
      if (driver.next_deadline_ns() <= t_ns) {
        host.now_ns = t_ns;
        driver.on_tick(host, t_ns);
        forward_sends();
      }
    }
    t_ns = std::max(t_ns, end_ns);
  }
  void stop() {
    host.now_ns = t_ns;
    driver.stop(host, t_ns);
    forward_sends();
  }

  RgaDriver driver;
  RgaSimulator sim;
  FakeHost host;
  Pipe up, down;
  int64_t t_ns = 0;

 private:
  void forward_sends() {
    for (; forwarded_ < host.sent.size(); ++forwarded_) {
      const auto& s = host.sent[forwarded_];
      up.push(s.t_ns, std::vector<uint8_t>(s.bytes.begin(), s.bytes.end()));
    }
  }
  size_t forwarded_ = 0;
};

// Scenario gas model: O2 rises as a smooth step, CO2 oscillates around a baseline.
double o2_a(int64_t t_ns) { return 2e-12 + 3e-11 / (1 + std::exp(-(static_cast<double>(t_ns) / kS - 20) / 3)); }
double co2_a(int64_t t_ns) {
  return 8e-12 + 4e-12 * std::sin(2 * std::numbers::pi * static_cast<double>(t_ns) / (7.0 * kS));
}

struct ModelCall {
  int mass = 0;
  int64_t t_ns = 0;
  double current_a = 0;
};

RgaSimOptions sim_options(std::vector<ModelCall>& calls) {
  RgaSimOptions options;
  options.ion_current_a = [&calls](int mass, int64_t t_ns) {
    const double a = mass == 32 ? o2_a(t_ns) : mass == 44 ? co2_a(t_ns) : 0.0;
    calls.push_back({mass, t_ns, a});
    return a;
  };
  return options;
}

TEST(RgaDriverWithSimulator, ReadsTheModelAndStampsWithinHalfARoundTrip) {
  std::vector<ModelCall> calls;
  Bench bench(RgaConfig{}, sim_options(calls));
  bench.connect();
  bench.run_until(40 * kS);

  EXPECT_TRUE(bench.host.reconnects.empty());
  EXPECT_EQ(bench.driver.counters().malformed, 0U);
  EXPECT_EQ(bench.driver.counters().timeouts, 0U);
  EXPECT_EQ(bench.host.count("identity"), 1U);
  EXPECT_DOUBLE_EQ(bench.sim.emission_ma(), 1.0);
  EXPECT_EQ(bench.sim.noise_floor(), 4);

  // Per loop: 2 x (up + NF4 gate + 4 bytes + down) < 2 x 175 ms; set-up is under 4 s.
  const auto& samples = bench.host.samples;
  ASSERT_GE(samples.size(), 2U * 100);
  // One measurement per reading, none lost; the last MR may still be measuring at the end.
  ASSERT_LE(samples.size(), calls.size());
  ASSERT_LE(calls.size(), samples.size() + 1);

  // Which MR each sample answers: the k-th MR sent.
  std::vector<int64_t> mr_sent_ns;
  for (const auto& s : bench.host.sent) {
    if (s.bytes == "MR32\r" || s.bytes == "MR44\r") mr_sent_ns.push_back(s.t_ns);
  }
  ASSERT_GE(mr_sent_ns.size(), samples.size());

  const double tx4_ns = 4.0 * 10 * kS / 28800;
  double max_error_ns = 0;
  for (size_t k = 0; k < samples.size(); ++k) {
    const int mass = bench.driver.config().masses[samples[k].channel];
    ASSERT_EQ(mass, calls[k].mass) << "sample " << k;
    // Value: the model's current at the measurement mid-time, to the 1e-16 A quantum.
    EXPECT_NEAR(samples[k].value, calls[k].current_a, 0.5e-16 + 1e-27) << "sample " << k;
    // Time: the stamp against the true mid-time, under half this reading's round trip.
    const double rtt_ns = 2.0 * static_cast<double>(samples[k].t_ns - mr_sent_ns[k]);
    const double error_ns = static_cast<double>(samples[k].t_ns - calls[k].t_ns);
    EXPECT_LT(std::abs(error_ns), rtt_ns / 2) << "sample " << k;
    // Tighter, from the link: error = (down + transmission - up) / 2.
    EXPECT_LE(std::abs(error_ns), (kDownMax_ns + tx4_ns - kUpMin_ns) / 2.0 + 1) << "sample " << k;
    EXPECT_GE(std::abs(error_ns), (kDownMin_ns + tx4_ns - kUpMax_ns) / 2.0 - 1) << "sample " << k;
    max_error_ns = std::max(max_error_ns, std::abs(error_ns));
  }

  // The readings follow the scenario: O2 ends near its plateau, CO2 swings both ways.
  const auto last_o2 = std::find_if(samples.rbegin(), samples.rend(), [](const auto& s) { return s.channel == 0; });
  ASSERT_NE(last_o2, samples.rend());
  EXPECT_NEAR(last_o2->value, o2_a(40 * kS), 1e-12);

  // Clock model: midpoint, uncertainty = half the median round trip, which the link bounds.
  ASSERT_FALSE(bench.host.clock_models.empty());
  const auto& model = bench.host.clock_models.back();
  EXPECT_EQ(model.method, "midpoint");
  const double gate_ns = 163.0 * kMs;
  EXPECT_GE(model.uncertainty_ns, (kUpMin_ns + gate_ns + tx4_ns + kDownMin_ns) / 2 - 1);
  EXPECT_LE(model.uncertainty_ns, (kUpMax_ns + gate_ns + tx4_ns + kDownMax_ns) / 2 + 1);
  EXPECT_LT(max_error_ns, model.uncertainty_ns);
  // ER? went out every 10 loops and found nothing.
  EXPECT_EQ(bench.host.count("rga_status"), 0U);
  EXPECT_GE(bench.driver.counters().messages_ok, samples.size() + samples.size() / 20);
}

TEST(RgaDriverWithSimulator, TcpLoginThenReadings) {
  std::vector<ModelCall> calls;
  RgaConfig config;
  config.tcp_login = true;
  config.password = "beamtime";
  RgaSimOptions options = sim_options(calls);
  options.tcp_login = true;
  options.password = "beamtime";
  Bench bench(config, options);
  bench.connect();
  bench.run_until(10 * kS);
  EXPECT_TRUE(bench.sim.logged_in());
  EXPECT_EQ(bench.host.count("login"), 1U);
  EXPECT_TRUE(bench.host.reconnects.empty());
  ASSERT_GE(bench.host.samples.size(), 10U);
  const size_t n = bench.host.samples.size();
  ASSERT_GE(calls.size(), n);
  EXPECT_NEAR(bench.host.samples.back().value, calls[n - 1].current_a, 0.5e-16 + 1e-27);
}

TEST(RgaDriverWithSimulator, WrongPasswordRequestsReconnect) {
  std::vector<ModelCall> calls;
  RgaConfig config;
  config.tcp_login = true;
  RgaSimOptions options = sim_options(calls);
  options.tcp_login = true;
  options.password = "other";
  Bench bench(config, options);
  bench.connect();
  bench.run_until(10 * kS);
  ASSERT_EQ(bench.host.reconnects.size(), 1U);
  EXPECT_FALSE(bench.sim.logged_in());
  EXPECT_TRUE(bench.host.samples.empty());
}

TEST(RgaDriverWithSimulator, FilamentFailureIsReportedAndReadsDropToZero) {
  std::vector<ModelCall> calls;
  RgaConfig config;
  config.status_every_n_loops = 5;
  Bench bench(config, sim_options(calls));
  bench.connect();
  bench.run_until(10 * kS);
  ASSERT_EQ(bench.host.count("filament_error"), 0U);
  const size_t before = bench.host.samples.size();
  ASSERT_GT(before, 0U);
  EXPECT_GT(bench.host.samples.back().value, 1e-12);
  ASSERT_TRUE(bench.sim.inject("filament_fail"));
  bench.run_until(15 * kS);
  EXPECT_GE(bench.host.count("rga_status"), 1U);
  ASSERT_GE(bench.host.count("filament_error"), 1U);
  EXPECT_NE(bench.host.last_event("filament_error")->detail.find("no filament detected"), std::string::npos);
  ASSERT_GT(bench.host.samples.size(), before + 4);
  EXPECT_EQ(bench.host.samples.back().value, 0.0);
  EXPECT_TRUE(bench.host.reconnects.empty());  // a loop error is reported, not fatal
}

TEST(RgaDriverWithSimulator, StallLeadsToTimeoutsThenReconnect) {
  std::vector<ModelCall> calls;
  Bench bench(RgaConfig{}, sim_options(calls));
  bench.connect();
  bench.run_until(8 * kS);
  ASSERT_GT(bench.host.samples.size(), 0U);
  ASSERT_TRUE(bench.sim.inject("stall"));
  bench.run_until(20 * kS);
  EXPECT_EQ(bench.driver.counters().timeouts, 3U);
  EXPECT_EQ(bench.host.count("timeout"), 3U);
  ASSERT_EQ(bench.host.reconnects.size(), 1U);
  // The runner reconnects: the driver starts over and readings resume.
  ASSERT_TRUE(bench.sim.inject("unstall"));
  const size_t before = bench.host.samples.size();
  bench.sim.on_disconnect(bench.t_ns);
  bench.driver.on_disconnect(bench.host, bench.t_ns);
  bench.up.clear();
  bench.down.clear();
  bench.connect();
  bench.run_until(30 * kS);
  EXPECT_GT(bench.host.samples.size(), before + 10);
  EXPECT_EQ(bench.host.reconnects.size(), 1U);
}

TEST(RgaDriverWithSimulator, StopSwitchesRfAndFilamentOff) {
  std::vector<ModelCall> calls;
  Bench bench(RgaConfig{}, sim_options(calls));
  bench.connect();
  bench.run_until(6 * kS);
  ASSERT_TRUE(bench.sim.rf_on());
  ASSERT_GT(bench.sim.emission_ma(), 0.0);
  bench.stop();
  bench.run_until(8 * kS);
  EXPECT_TRUE(bench.driver.stopped());
  EXPECT_FALSE(bench.sim.rf_on());
  EXPECT_DOUBLE_EQ(bench.sim.emission_ma(), 0.0);
  EXPECT_EQ(bench.driver.counters().malformed, 0U);
}

TEST(RgaDriverWithSimulator, OnStopDuringAMassReadLeavesTheRgaSafe) {
  std::vector<ModelCall> calls;
  Bench bench(RgaConfig{}, sim_options(calls));
  bench.connect();
  bench.run_until(6 * kS);
  ASSERT_TRUE(bench.sim.rf_on());
  ASSERT_GT(bench.sim.emission_ma(), 0.0);
  ASSERT_EQ(bench.host.sent.back().bytes.substr(0, 2), "MR");  // an MR is being measured
  bench.host.now_ns = bench.t_ns;
  bench.driver.on_stop(bench.host, bench.t_ns);
  bench.driver.on_disconnect(bench.host, bench.t_ns);  // as the runner does; what was sent still leaves
  ASSERT_EQ(bench.host.sent.back().bytes, "MR0\rFL0\r");
  bench.sim.on_bytes(testing::as_bytes(bench.host.sent.back().bytes), bench.t_ns + kUpMin_ns);
  EXPECT_FALSE(bench.sim.rf_on());
  EXPECT_DOUBLE_EQ(bench.sim.emission_ma(), 0.0);
}

}  // namespace
}  // namespace opsync::drivers::rga
