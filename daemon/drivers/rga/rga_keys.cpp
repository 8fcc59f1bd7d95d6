// station.toml keys -> RgaConfig: types here, value checks in RgaConfig::problems().
#include "drivers/rga/rga_keys.h"

#include <algorithm>
#include <limits>

namespace opsync::drivers::rga {

RgaConfig read_rga_keys(ConfigTable& t) {
  RgaConfig c;
  if (auto m = t.int_array("masses")) {
    c.masses.clear();
    // Clamped at int's limits, so an out-of-range m/z stays out of range for problems() to name.
    for (int64_t mass : *m) {
      c.masses.push_back(static_cast<int>(
          std::clamp<int64_t>(mass, std::numeric_limits<int>::min(), std::numeric_limits<int>::max())));
    }
  }
  if (auto n = t.integer_as<int>("noise_floor")) c.noise_floor = *n;
  if (auto e = t.number("emission_ma")) c.emission_ma = *e;
  if (auto v = t.integer_as<int>("cdem_voltage_v")) c.cdem_voltage_v = *v;
  if (auto b = t.boolean("calibrate")) c.calibrate = *b;
  if (auto b = t.boolean("tcp_login")) c.tcp_login = *b;
  if (auto u = t.str("user")) c.user = *u;
  if (auto p = t.str("password")) c.password = *p;
  if (auto n = t.integer_as<int>("status_every_n_loops")) c.status_every_n_loops = *n;
  if (auto k = t.number("timeout_scale")) c.timeout_scale = *k;
  if (auto p = t.duration_ns("period_s")) c.period_ns = *p;
  t.check(c.problems());
  return c;
}

}  // namespace opsync::drivers::rga
