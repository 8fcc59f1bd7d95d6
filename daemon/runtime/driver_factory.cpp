// station.toml keys of each driver -> its config struct -> the driver.
#include "runtime/driver_factory.h"

#include <cmath>
#include <fmt/format.h>

#include "drivers/bridge/bridge_driver.h"
#include "drivers/macnet/macnet_driver.h"
#include "drivers/rga/rga_driver.h"

namespace opsync::daemon {
namespace {

int64_t seconds_ns(double s) { return static_cast<int64_t>(std::llround(s * 1e9)); }

std::unique_ptr<Driver> make_macnet(ConfigTable& t) {
  MacnetConfig c;
  if (auto m = t.str("mode")) {
    auto mode = macnet::parse_mode(*m);
    if (!mode) t.fail("mode", "must be \"json\" (TCP 57570) or \"binary\" (TCP 57560)");
    c.mode = *mode;
  }
  if (auto ch = t.integer("channel")) {
    if (*ch < 1 || *ch > 65536) t.fail("channel", "is the tester channel as Maccor counts it, from 1");
    c.tester_channel = static_cast<int>(*ch);
  }
  if (auto p = t.number("poll_period_s")) {
    if (*p <= 0 || *p > 3600) t.fail("poll_period_s", "must be in (0, 3600] seconds");
    c.poll_period_ns = seconds_ns(*p);
  }
  if (auto p = t.number("reply_timeout_s")) {
    if (*p <= 0) t.fail("reply_timeout_s", "must be positive");
    c.reply_timeout_ns = seconds_ns(*p);
  }
  if (auto z = t.integer("tester_zone_offset_s")) c.tester_clock_zone_offset_s = static_cast<int32_t>(*z);
  if (auto b = t.boolean("state_on_change_only")) c.state_samples_on_change_only = *b;
  if (auto r = t.number("sync_max_rtt_ms")) {
    if (*r <= 0) t.fail("sync_max_rtt_ms", "must be positive");
    c.sync_max_rtt_ns = seconds_ns(*r / 1000);
  }
  if (const std::string err = c.check(); !err.empty()) t.fail("", err);
  t.finish();
  return std::make_unique<MacnetDriver>(c);
}

std::unique_ptr<Driver> make_rga(ConfigTable& t) {
  rga::RgaConfig c;
  if (auto m = t.int_array("masses")) {
    if (m->empty()) t.fail("masses", "needs at least one m/z, e.g. [32, 44]");
    c.masses.assign(m->begin(), m->end());
  }
  if (auto n = t.integer("noise_floor")) c.noise_floor = static_cast<int>(*n);
  if (auto e = t.number("emission_ma")) c.emission_ma = *e;
  if (auto v = t.integer("cdem_voltage_v")) c.cdem_voltage_v = static_cast<int>(*v);
  if (auto b = t.boolean("calibrate")) c.calibrate = *b;
  if (auto b = t.boolean("tcp_login")) c.tcp_login = *b;
  if (auto u = t.str("user")) c.user = *u;
  if (auto p = t.str("password")) c.password = *p;
  if (auto n = t.integer("status_every_n_loops")) c.status_every_n_loops = static_cast<int>(*n);
  if (auto k = t.number("timeout_scale")) c.timeout_scale = *k;
  if (auto p = t.number("period_s")) {
    if (*p < 0) t.fail("period_s", "must not be negative (0 = read continuously)");
    c.period_ns = seconds_ns(*p);
  }
  if (const auto errors = rga::validate(c); !errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
    t.fail("", all);
  }
  t.finish();
  return std::make_unique<rga::RgaDriver>(c);
}

std::unique_ptr<Driver> make_bridge(ConfigTable& t) {
  bridge::BridgeConfig c;
  auto input = [&](const char* key, uint32_t& out) {
    if (auto v = t.integer(key)) {
      if (*v < 0 || *v > 3) t.fail(key, "is a trigger input from 0 to 3");
      out = static_cast<uint32_t>(*v);
    }
  };
  input("scan_start_input", c.scan_start_input);
  input("scan_end_input", c.scan_end_input);
  input("detector_frame_input", c.detector_frame_input);
  if (auto v = t.integer("debounce_us")) c.debounce_us = static_cast<uint32_t>(std::max<int64_t>(0, *v));
  if (auto v = t.integer("holdoff_us")) c.holdoff_us = static_cast<uint32_t>(std::max<int64_t>(0, *v));
  if (auto p = t.number("sync_period_s")) {
    if (*p <= 0 || *p > 60) t.fail("sync_period_s", "must be in (0, 60] seconds");
    c.sync_period_ns = seconds_ns(*p);
  }
  if (auto w = t.number("sync_window_s")) {
    if (*w < 1 || *w > 86400) t.fail("sync_window_s", "must be in [1, 86400] seconds");
    c.sync_window_ns = seconds_ns(*w);
  }
  if (auto h = t.number("tick_hz")) {
    if (*h <= 0) t.fail("tick_hz", "must be positive");
    c.tick_hz = *h;
  }
  if (auto r = t.number("max_rtt_ms")) {
    if (*r <= 0) t.fail("max_rtt_ms", "must be positive");
    c.max_rtt_ns = seconds_ns(*r / 1000);
  }
  if (auto r = t.number("sync_timeout_s")) {
    if (*r <= 0) t.fail("sync_timeout_s", "must be positive");
    c.sync_timeout_ns = seconds_ns(*r);
  }
  if (auto r = t.number("reply_timeout_s")) {
    if (*r <= 0) t.fail("reply_timeout_s", "must be positive");
    c.reply_timeout_ns = seconds_ns(*r);
  }
  t.finish();
  return std::make_unique<bridge::BridgeDriver>(c);
}

}  // namespace

std::unique_ptr<Driver> make_driver(const SourceConfig& source) {
  ConfigTable t = *source.options;  // a copy: the factory may be called again (tests)
  if (source.driver == "macnet") return make_macnet(t);
  if (source.driver == "rga") return make_rga(t);
  if (source.driver == "bridge") return make_bridge(t);
  t.fail("driver", fmt::format("'{}' is not a driver (known: macnet, rga, bridge)", source.driver));
}

}  // namespace opsync::daemon
