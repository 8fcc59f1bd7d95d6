// Builds a source's driver from its [[source]] table through the driver table: the driver's row
// reads its own keys, checks their values and rejects unknown keys, naming file, line and key.
#pragma once

#include <memory>

#include "drivers/driver.h"
#include "runtime/station_config.h"

namespace opsync::runtime {

std::unique_ptr<drivers::Driver> make_driver(const SourceConfig& source);

}  // namespace opsync::runtime
