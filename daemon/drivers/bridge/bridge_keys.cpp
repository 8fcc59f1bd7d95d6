// station.toml keys -> BridgeConfig: types here, value checks in BridgeConfig::problems().
#include "drivers/bridge/bridge_keys.h"

#include <algorithm>

namespace opsync::drivers::bridge {

BridgeConfig read_bridge_keys(ConfigTable& t) {
  BridgeConfig c;
  auto input = [&](const char* key, uint32_t& out) {
    if (auto v = t.integer(key)) {
      if (*v < 0) t.fail(key, "is a trigger input from 0 to 3");
      out = static_cast<uint32_t>(std::min<int64_t>(*v, 4));  // above 3: problems() names it
    }
  };
  input("scan_start_input", c.scan_start_input);
  input("scan_end_input", c.scan_end_input);
  input("detector_frame_input", c.detector_frame_input);
  if (auto v = t.integer_as<uint32_t>("debounce_us")) c.debounce_us = *v;  // negative reads as 0
  if (auto v = t.integer_as<uint32_t>("holdoff_us")) c.holdoff_us = *v;
  if (auto p = t.duration_ns("sync_period_s")) c.sync_period_ns = *p;
  if (auto w = t.duration_ns("sync_window_s")) c.sync_window_ns = *w;
  if (auto h = t.number("tick_hz")) c.tick_hz = *h;
  if (auto r = t.duration_ns("max_rtt_ms", 1e-3)) c.max_rtt_ns = *r;
  if (auto r = t.duration_ns("sync_timeout_s")) c.sync_timeout_ns = *r;
  if (auto r = t.duration_ns("reply_timeout_s")) c.reply_timeout_ns = *r;
  t.check(c.problems());
  return c;
}

}  // namespace opsync::drivers::bridge
