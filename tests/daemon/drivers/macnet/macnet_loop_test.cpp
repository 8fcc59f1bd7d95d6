// Driver and simulator back to back on a simulated clock, no sockets, in both modes: readings
// equal the scenario at the time the request reached the simulator, step/cycle changes become
// events, the tester-clock fit recovers the simulator's offset and drift, a stall ends in a
// reconnect request and polling resumes after it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>

#include "drivers/macnet/macnet_driver.h"
#include "drivers/macnet/macnet_sim.h"
#include "daemon/drivers/macnet/macnet_test_util.h"

namespace opsync::drivers::macnet {
namespace {

constexpr int64_t kStart = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

// A small cycling scenario: 7 s steps (charge, discharge, rest), three steps per cycle.
CellState scenario(int64_t t_ns) {
  const double s = static_cast<double>(t_ns - kStart) / 1e9;
  const int k = static_cast<int>(std::floor(s / 7.0));
  CellState c;
  c.step = static_cast<uint16_t>(1 + k % 3);
  c.cycle = static_cast<uint32_t>(1 + k / 3);
  c.test_time_s = s;
  c.step_time_s = s - 7.0 * k;
  c.current_a = c.step == 1 ? 0.002 : c.step == 2 ? -0.002 : 0.0;
  c.voltage_v = 3.7 + 0.2 * std::sin(s / 5.0) + 0.01 * c.step_time_s;
  c.capacity_ah = 0.002 * c.step_time_s / 3600.0;
  c.energy_wh = c.capacity_ah * c.voltage_v;
  c.rf1 = c.step == 1 ? 1 : c.step == 2 ? 2 : 4;  // Charge, Discharge, Rest
  c.rf2 = 1;                                      // Step Time
  c.stat = 2;
  c.last_rec_num = static_cast<uint32_t>(s);
  return c;
}

// Wires a driver to a simulator. Each exchange gets one random one-way delay used both ways,
// so the request reaches the simulator exactly at the request/reply midpoint: the truth every
// sample stamp is checked against.
class Loop : public testing::RecordingHost {
 public:
  Loop(MacnetDriver& driver, MacnetSimulator& sim, int64_t min_delay_ns, int64_t max_delay_ns)
      : drv_(driver), sim_(sim), delay_(min_delay_ns, max_delay_ns) {}

  void send(std::span<const uint8_t> bytes) override {
    RecordingHost::send(bytes);
    delay_ns_ = delay_(rng_);
    to_sim_.push_back({now_ + delay_ns_, {bytes.begin(), bytes.end()}});
  }
  void request_reconnect(std::string reason) override {
    RecordingHost::request_reconnect(std::move(reason));
    reconnect_due_ = true;
  }

  void connect(int64_t t_ns) {
    now_ = t_ns;
    sim_.on_connect(now_);
    drv_.on_connect(*this, now_);
  }

  void run_until(int64_t t_end) {
    for (;;) {
      int64_t next = std::min(drv_.next_deadline_ns(), sim_.next_deadline_ns());
      if (!to_sim_.empty()) next = std::min(next, to_sim_.front().t_ns);
      if (!to_drv_.empty()) next = std::min(next, to_drv_.front().t_ns);
      if (next > t_end) break;
      now_ = std::max(now_, next);
      while (!to_sim_.empty() && to_sim_.front().t_ns <= now_) {
        sim_.on_bytes(to_sim_.front().bytes, now_);
        to_sim_.pop_front();
        arrivals_ns.push_back(now_);
        collect_sim_output();
      }
      if (sim_.next_deadline_ns() <= now_) {
        sim_.on_tick(now_);
        collect_sim_output();
      }
      while (!to_drv_.empty() && to_drv_.front().t_ns <= now_) {
        drv_.on_bytes(*this, to_drv_.front().bytes, now_);
        to_drv_.pop_front();
      }
      if (drv_.next_deadline_ns() <= now_) drv_.on_tick(*this, now_);
      if (reconnect_due_) {  // what the runner does, without backoff
        reconnect_due_ = false;
        drv_.on_disconnect(*this, now_);
        sim_.on_disconnect(now_);
        to_sim_.clear();
        to_drv_.clear();
        connect(now_ + 500 * kMs);
      }
    }
    now_ = std::max(now_, t_end);
  }

  std::vector<int64_t> arrivals_ns;  // when each request reached the simulator

 private:
  struct Chunk {
    int64_t t_ns;
    std::vector<uint8_t> bytes;
  };
  void collect_sim_output() {
    auto out = sim_.take_output();
    if (!out.empty()) to_drv_.push_back({now_ + delay_ns_, std::move(out)});
  }

  MacnetDriver& drv_;
  MacnetSimulator& sim_;
  std::mt19937_64 rng_{12345};
  std::uniform_int_distribution<int64_t> delay_;
  int64_t delay_ns_ = 0;
  int64_t now_ = 0;
  bool reconnect_due_ = false;
  std::deque<Chunk> to_sim_, to_drv_;
};

struct LoopSetup {
  macnet::Mode mode;
  double drift_ppm;
  int64_t offset_ms;
};

MacnetSimOptions sim_options(const LoopSetup& s) {
  MacnetSimOptions o;
  o.mode = s.mode;
  o.model = scenario;
  o.tester_offset_ms = s.offset_ms;
  o.tester_drift_ppm = s.drift_ppm;
  o.tester_drift_anchor_ns = kStart;
  return o;
}

MacnetConfig driver_config(macnet::Mode mode) {
  MacnetConfig c;
  c.mode = mode;
  c.tester_channel = 2;
  return c;
}

// Reference time at which the simulator's tester clock reads x ms (inverse of its formula).
double truth_ns_of_tester_ms(const MacnetSimOptions& o, int64_t x_ms) {
  const long double tester_ns = static_cast<long double>(x_ms) * 1e6L;
  const long double d = static_cast<long double>(o.tester_drift_ppm) * 1e-6L;
  const long double t = (tester_ns - static_cast<long double>(o.tester_offset_ms) * 1e6L +
                         static_cast<long double>(o.tester_drift_anchor_ns) * d) /
                        (1.0L + d);
  return static_cast<double>(t);
}

class MacnetLoop : public ::testing::TestWithParam<macnet::Mode> {};

TEST_P(MacnetLoop, ReadingsEqualTheModelAtTheRequestTime) {
  const macnet::Mode mode = GetParam();
  const LoopSetup setup{mode, 40.0, 98'765};
  MacnetSimulator sim(sim_options(setup));
  MacnetDriver drv(driver_config(mode));
  Loop loop(drv, sim, 200'000, 3'000'000);
  loop.connect(kStart + 1);
  loop.run_until(kStart + 60 * kS);

  const auto volts = loop.samples_of(MacnetDriver::kVoltage);
  ASSERT_GT(volts.size(), 590u);  // 10 Hz for 60 s
  EXPECT_EQ(drv.counters().malformed, 0u);
  EXPECT_EQ(drv.counters().timeouts, 0u);
  // Every sample stamp is a time a request reached the simulator, and the values are the
  // model's there, to f32.
  size_t k = 0;
  for (const auto& s : volts) {
    EXPECT_TRUE(std::binary_search(loop.arrivals_ns.begin(), loop.arrivals_ns.end(), s.t_ns)) << s.t_ns;
    const CellState c = scenario(s.t_ns);
    ASSERT_EQ(static_cast<float>(s.value), static_cast<float>(c.voltage_v)) << k;
    ++k;
  }
  for (const auto& s : loop.samples_of(MacnetDriver::kCurrent)) {
    ASSERT_EQ(s.value, double{static_cast<float>(scenario(s.t_ns).current_a)});
  }
  for (const auto& s : loop.samples_of(MacnetDriver::kCapacity)) {
    ASSERT_DOUBLE_EQ(s.value, double{static_cast<float>(scenario(s.t_ns).capacity_ah)} * 3600.0);
  }
  for (const auto& s : loop.samples_of(MacnetDriver::kEnergy)) {
    ASSERT_DOUBLE_EQ(s.value, double{static_cast<float>(scenario(s.t_ns).energy_wh)} * 3600.0);
  }
  for (const auto& s : loop.samples_of(MacnetDriver::kTestTime)) {
    ASSERT_EQ(s.value, double{static_cast<float>(scenario(s.t_ns).test_time_s)});
  }
  for (const auto& s : loop.samples_of(MacnetDriver::kStep)) ASSERT_EQ(s.value, scenario(s.t_ns).step);
  for (const auto& s : loop.samples_of(MacnetDriver::kCycle)) ASSERT_EQ(s.value, scenario(s.t_ns).cycle);

  // Step and cycle changes as the model has them between consecutive readings.
  std::vector<std::string> want_steps, want_cycles;
  for (size_t i = 1; i < volts.size(); ++i) {
    const CellState a = scenario(volts[i - 1].t_ns), b = scenario(volts[i].t_ns);
    if (a.step != b.step) want_steps.push_back(fmt::format("step {} -> {} (cycle {})", a.step, b.step, b.cycle));
    if (a.cycle != b.cycle) want_cycles.push_back(fmt::format("cycle {} -> {}", a.cycle, b.cycle));
  }
  std::vector<std::string> got_steps, got_cycles;
  for (const auto& e : loop.events_of("step_change")) got_steps.push_back(e.detail);
  for (const auto& e : loop.events_of("cycle_change")) got_cycles.push_back(e.detail);
  EXPECT_EQ(want_steps.size(), 8u);  // 60 s / 7 s
  EXPECT_EQ(got_steps, want_steps);
  EXPECT_EQ(want_cycles.size(), 2u);
  EXPECT_EQ(got_cycles, want_cycles);
  // Status events name the states: Charge -> Discharge at the first step change.
  const auto status = loop.events_of("status");
  ASSERT_GE(status.size(), 2u);
  EXPECT_EQ(status[1].detail, "RF1 1 Charge -> 2 Discharge; Stat 2 Active; RF2 1 Step Time");
}

TEST_P(MacnetLoop, TesterClockFitRecoversOffsetAndDrift) {
  const macnet::Mode mode = GetParam();
  const bool binary = mode == macnet::Mode::kBinary;
  for (double drift_ppm : {-60.0, 45.0}) {
    SCOPED_TRACE(drift_ppm);
    const LoopSetup setup{mode, drift_ppm, -123'456'789};  // tester ~34 h behind
    const MacnetSimOptions so = sim_options(setup);
    MacnetSimulator sim(so);
    MacnetDriver drv(driver_config(mode));
    Loop loop(drv, sim, 200'000, 3'000'000);
    loop.connect(kStart);
    loop.run_until(kStart + 120 * kS);
    drv.on_disconnect(loop, kStart + 120 * kS);  // hands out the final fit
    ASSERT_FALSE(loop.clock_models.empty());
    const records::ClockModel& m = loop.clock_models.back();
    EXPECT_EQ(m.fitted_at_ns, kStart + 120 * kS);
    ASSERT_TRUE(drv.tester_clock().valid());

    // Offset: map tester times over the last minute, against the simulator's exact inverse.
    const double resolution_ns = binary ? 1e6 : 1e9;
    double worst_ns = 0;
    for (int64_t t = kStart + 60 * kS; t <= kStart + 120 * kS; t += 997 * kMs) {
      const int64_t x = sim.tester_time_ms(t);
      const double mapped = static_cast<double>(m.offset_ns) + m.rate * static_cast<double>(x);
      worst_ns = std::max(worst_ns, std::fabs(mapped - truth_ns_of_tester_ms(so, x)));
    }
    EXPECT_LT(worst_ns, 1e6 + resolution_ns) << "worst mapping error " << worst_ns / 1e6 << " ms";
    if (!binary) {
      // The whole-second stamps are taken as the middle of their second: far better than 1 s.
      EXPECT_LT(worst_ns, 200e6) << "worst mapping error " << worst_ns / 1e6 << " ms";
    }

    // Drift: a tester clock fast by d has 1e6 / (1 + d) reference ns per ms.
    if (binary) {
      const double fitted_ppm = (1e6 / m.rate - 1.0) * 1e6;
      EXPECT_NEAR(fitted_ppm, drift_ppm, 20.0);
      EXPECT_NEAR(drv.tester_clock().drift_ppm(), drift_ppm, 20.0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, MacnetLoop, ::testing::Values(macnet::Mode::kBinary, macnet::Mode::kJson),
                         [](const auto& param_info) { return std::string(macnet::mode_name(param_info.param)); });

TEST(MacnetLoopJson, ZoneOffsetMustMatchTheTesterPc) {
  // The tester PC runs on UTC+2 and says so in no field: with the matching setting the fit is
  // right; without it the fit is off by exactly the zone offset.
  for (int32_t configured_s : {7200, 0}) {
    MacnetSimOptions so = sim_options({macnet::Mode::kJson, 0.0, 0});
    so.tester_zone_offset_s = 7200;
    MacnetSimulator sim(so);
    MacnetConfig c = driver_config(macnet::Mode::kJson);
    c.tester_clock_zone_offset_s = configured_s;
    MacnetDriver drv(c);
    Loop loop(drv, sim, 200'000, 1'000'000);
    loop.connect(kStart);
    loop.run_until(kStart + 30 * kS);
    ASSERT_TRUE(drv.tester_clock().valid());
    // The fit's source axis is shifted by the zone error: tester UTC ms x is taken for x + 2 h.
    const int64_t t = kStart + 25 * kS;
    const int64_t shift_ms = (7200 - int64_t{configured_s}) * 1000;
    const int64_t x = sim.tester_time_ms(t);
    EXPECT_NEAR(static_cast<double>(drv.tester_clock().to_ref_ns(x + shift_ms) - t), 0.0, 1e9);
    if (configured_s == 7200) {
      EXPECT_NEAR(static_cast<double>(drv.tester_clock().to_ref_ns(x) - t), 0.0, 1e9);
    } else {
      EXPECT_LT(drv.tester_clock().to_ref_ns(x), t - 3600 * kS);  // hours off
    }
  }
}

TEST(MacnetLoopBinary, TesterClockStepIsFollowed) {
  MacnetSimulator sim(sim_options({macnet::Mode::kBinary, 0.0, 5'000}));
  MacnetDriver drv(driver_config(macnet::Mode::kBinary));
  Loop loop(drv, sim, 200'000, 1'000'000);
  loop.connect(kStart);
  loop.run_until(kStart + 20 * kS);
  ASSERT_TRUE(sim.inject("tester_clock_step:2500"));  // someone sets the tester PC's clock
  loop.run_until(kStart + 40 * kS);
  EXPECT_EQ(drv.tester_clock().stats().steps, 1u);
  const int64_t t = kStart + 39 * kS;
  EXPECT_NEAR(static_cast<double>(drv.tester_clock().to_ref_ns(sim.tester_time_ms(t))), static_cast<double>(t), 2e6);
}

TEST(MacnetLoopBinary, StallEndsInReconnectAndPollingResumes) {
  MacnetSimulator sim(sim_options({macnet::Mode::kBinary, 0.0, 0}));
  MacnetDriver drv(driver_config(macnet::Mode::kBinary));
  Loop loop(drv, sim, 200'000, 1'000'000);
  loop.connect(kStart);
  loop.run_until(kStart + 5 * kS);
  const size_t before = loop.samples_of(MacnetDriver::kVoltage).size();
  ASSERT_TRUE(sim.inject("stall"));
  loop.run_until(kStart + 11 * kS + 300 * kMs);  // three 2 s timeouts, from the first poll after 5 s
  EXPECT_EQ(drv.counters().timeouts, 3u);
  EXPECT_EQ(loop.reconnects.size(), 1u);
  EXPECT_EQ(loop.samples_of(MacnetDriver::kVoltage).size(), before);
  ASSERT_TRUE(sim.inject("unstall"));
  loop.run_until(kStart + 15 * kS);
  EXPECT_GT(loop.samples_of(MacnetDriver::kVoltage).size(), before + 30);
  EXPECT_EQ(loop.events_of("link_ok").size(), 2u);
  EXPECT_EQ(drv.counters().malformed, 0u);
}

TEST(MacnetLoopBinary, UnservedChannelTimesOut) {
  // The binary protocol has no error reply: a channel the tester does not have is a timeout.
  MacnetSimOptions so = sim_options({macnet::Mode::kBinary, 0.0, 0});
  so.wire_channels = {0};
  MacnetSimulator sim(so);
  MacnetDriver drv(driver_config(macnet::Mode::kBinary));  // tester channel 2
  Loop loop(drv, sim, 200'000, 1'000'000);
  loop.connect(kStart);
  loop.run_until(kStart + 3 * kS);
  EXPECT_EQ(drv.counters().timeouts, 1u);
  EXPECT_TRUE(loop.samples.empty());
  EXPECT_EQ(sim.stats().ignored, 2u);  // the first poll, and the one after the echo probe
}

TEST(MacnetLoopJson, UnservedChannelIsAnIllegalValueError) {
  MacnetSimOptions so = sim_options({macnet::Mode::kJson, 0.0, 0});
  so.wire_channels = {0};
  MacnetSimulator sim(so);
  MacnetDriver drv(driver_config(macnet::Mode::kJson));
  Loop loop(drv, sim, 200'000, 1'000'000);
  loop.connect(kStart);
  loop.run_until(kStart + 3 * kS);
  const auto ev = loop.events_of("macnet_error");
  ASSERT_EQ(ev.size(), 1u);  // 30 errors, reported once (repeats within 10 s are counted)
  EXPECT_EQ(ev[0].detail.rfind("Illegal value", 0), 0u);
  EXPECT_GE(drv.stats().macnet_errors, 29u);
  EXPECT_EQ(drv.counters().timeouts, 0u);
}

}  // namespace
}  // namespace opsync::drivers::macnet
