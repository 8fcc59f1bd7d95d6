// The [[source]] keys of the trigger bridge in station.toml, read into a BridgeConfig and checked.
#pragma once

#include "core/config_table.h"
#include "drivers/bridge/bridge_driver.h"

namespace opsync::drivers::bridge {

// Reads scan_start_input, scan_end_input, detector_frame_input, debounce_us, holdoff_us,
// sync_period_s, sync_window_s, tick_hz, max_rtt_ms, sync_timeout_s and reply_timeout_s;
// throws ConfigError naming file, line and key. Does not call finish().
BridgeConfig read_bridge_keys(ConfigTable& keys);

}  // namespace opsync::drivers::bridge
