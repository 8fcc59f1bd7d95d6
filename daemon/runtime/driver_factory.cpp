// A [[source]] table -> its driver, by the row of its `driver` key.
#include "runtime/driver_factory.h"

#include <fmt/format.h>

#include "drivers/driver_table.h"

namespace opsync::daemon {

std::unique_ptr<Driver> make_driver(const SourceConfig& source) {
  ConfigTable t = *source.options;  // a copy: the factory may be called again (tests)
  const DriverSpec* spec = find_driver(source.driver);
  if (!spec) t.fail("driver", fmt::format("'{}' is not a driver (known: {})", source.driver, driver_names()));
  return spec->make_driver(t);
}

}  // namespace opsync::daemon
