// The [[source]] keys of an SRS RGA in station.toml, read into an RgaConfig and checked.
#pragma once

#include "core/config_table.h"
#include "drivers/rga/rga_driver.h"

namespace opsync::drivers::rga {

// Reads masses, noise_floor, emission_ma, cdem_voltage_v, calibrate, tcp_login, user, password,
// status_every_n_loops, timeout_scale and period_s; throws ConfigError naming file, line and
// key. Does not call finish().
RgaConfig read_rga_keys(ConfigTable& keys);

}  // namespace opsync::drivers::rga
