// The driver table: one row per instrument driver, and everything outside a driver's folder
// that needs to know the drivers reads it (station.toml checks, opsyncd, `opsync replay serve`,
// `opsync sim`, `opsyncd --drivers`). Adding an instrument is its folder, with its row, plus its
// name in the list in drivers/CMakeLists.txt; see docs/adding-an-instrument.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_table.h"
#include "drivers/driver.h"
#include "drivers/serve_dialect.h"
#include "drivers/sim_instrument.h"

namespace opsync::drivers {

struct DriverSpec {
  std::string_view name;     // the [[source]] key `driver`
  std::string_view summary;  // one line: instrument, link, protocol
  // Reads the driver's own keys of a [[source]] table (the common ones are read already), checks
  // them, rejects keys nobody read, and makes the driver. Throws ConfigError naming file:line:key.
  std::unique_ptr<Driver> (*make_driver)(ConfigTable& keys);
  // How `opsync replay serve` cuts and matches this protocol's messages (keys as above).
  std::unique_ptr<ServeDialect> (*make_serve_dialect)(ConfigTable& keys);
  // The simulated instrument `opsync sim` serves, with its station.toml block.
  SimInstrument (*make_sim)(const SimSetup& setup);
  std::vector<SimKnob> sim_knobs;
  // Faults the simulated device itself knows (--fault NAME:KIND), besides the link's own
  // (drop, stall:S, garbage:N), e.g. "bad_crc", "clock_step:NS".
  std::vector<std::string_view> sim_faults;
  // A [[source]] block for docs and `opsyncd --drivers`: the driver's keys with their defaults.
  std::string_view station_example;
};

// Every driver, in the order of the list in drivers/CMakeLists.txt.
const std::vector<const DriverSpec*>& driver_table();
// nullptr for a name no row has.
const DriverSpec* find_driver(std::string_view name);
// "macnet, rga, bridge": for messages that list what is known.
std::string driver_names();

}  // namespace opsync::drivers
