// station.toml keys -> MacnetConfig: types here, value checks in MacnetConfig::problems().
#include "drivers/macnet/macnet_keys.h"

namespace opsync::drivers::macnet {

MacnetConfig read_macnet_keys(ConfigTable& t) {
  MacnetConfig c;
  if (auto m = t.str("mode")) {
    auto mode = macnet::parse_mode(*m);
    if (!mode) t.fail("mode", "must be \"json\" (TCP 57570) or \"binary\" (TCP 57560)");
    c.mode = *mode;
  }
  if (auto ch = t.integer_as<int>("channel")) c.tester_channel = *ch;
  if (auto p = t.duration_ns("poll_period_s")) c.poll_period_ns = *p;
  if (auto p = t.duration_ns("reply_timeout_s")) c.reply_timeout_ns = *p;
  if (auto z = t.integer_as<int32_t>("tester_zone_offset_s")) c.tester_clock_zone_offset_s = *z;
  if (auto b = t.boolean("state_on_change_only")) c.state_samples_on_change_only = *b;
  if (auto r = t.duration_ns("sync_max_rtt_ms", 1e-3)) c.sync_max_rtt_ns = *r;
  t.check(c.problems());
  return c;
}

}  // namespace opsync::drivers::macnet
