// A recorded source's serve dialect, from its driver's row.
#include "replay/serve_dialect.h"

#include <fmt/format.h>

#include "drivers/driver_table.h"
#include "replay/replay_input.h"

namespace opsync::replay {

std::unique_ptr<ServeDialect> make_serve_dialect(const runtime::SourceConfig& source) {
  const drivers::DriverSpec* spec = drivers::find_driver(source.driver);
  if (!spec) throw ReplayError(fmt::format("source '{}': cannot serve driver '{}'", source.name, source.driver));
  ConfigTable keys = *source.options;  // read, not checked: the recording's config was
  return spec->make_serve_dialect(keys);
}

}  // namespace opsync::replay
