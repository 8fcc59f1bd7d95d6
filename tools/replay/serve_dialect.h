// The serve dialect of a recorded source, from its driver's row in the driver table (each
// driver's folder has its dialect: drivers/<name>/<name>_serve_dialect.h).
#pragma once

#include <memory>

#include "drivers/serve_dialect.h"
#include "runtime/station_config.h"

namespace opsync::replay {

using drivers::ServeDialect;

// Throws ReplayError for a driver the table does not know.
std::unique_ptr<ServeDialect> make_serve_dialect(const runtime::SourceConfig& source);

}  // namespace opsync::replay
