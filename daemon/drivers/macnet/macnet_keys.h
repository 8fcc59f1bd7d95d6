// The [[source]] keys of a MacNet cycler in station.toml, read into a MacnetConfig and checked.
#pragma once

#include "core/config_table.h"
#include "drivers/macnet/macnet_driver.h"

namespace opsync::drivers::macnet {

// Reads mode, channel, poll_period_s, reply_timeout_s, tester_zone_offset_s,
// state_on_change_only and sync_max_rtt_ms; throws ConfigError naming file, line and key.
// Does not call finish(): the caller decides when the table is done.
MacnetConfig read_macnet_keys(ConfigTable& keys);

}  // namespace opsync::drivers::macnet
