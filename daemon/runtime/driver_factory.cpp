// A [[source]] table -> its driver, by the row of its `driver` key.
#include "runtime/driver_factory.h"

#include <fmt/format.h>

#include "drivers/driver_table.h"

namespace opsync::runtime {

std::unique_ptr<drivers::Driver> make_driver(const SourceConfig& source) {
  ConfigTable t = *source.options;  // a copy: the factory may be called again (tests)
  const drivers::DriverSpec* spec = drivers::find_driver(source.driver);
  if (!spec) t.fail("driver", fmt::format("'{}' is not a driver (known: {})", source.driver, drivers::driver_names()));
  return spec->make_driver(t);
}

}  // namespace opsync::runtime
