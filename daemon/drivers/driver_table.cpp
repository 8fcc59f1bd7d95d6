// The table itself: one row per name in OPSYNC_DRIVERS (drivers/CMakeLists.txt), each defined
// in its driver's folder as `const DriverSpec <name>_driver_spec`.
#include "drivers/driver_table.h"

namespace opsync::drivers {

// Each row lives in its driver's namespace (opsync::drivers::<name>).
#define OPSYNC_DRIVER_ROW(name) \
  namespace name {              \
  extern const DriverSpec name##_driver_spec; \
  }
#include "drivers/driver_rows.inc"
#undef OPSYNC_DRIVER_ROW

const std::vector<const DriverSpec*>& driver_table() {
  static const std::vector<const DriverSpec*> table = {
#define OPSYNC_DRIVER_ROW(name) &name::name##_driver_spec,
#include "drivers/driver_rows.inc"
#undef OPSYNC_DRIVER_ROW
  };
  return table;
}

const DriverSpec* find_driver(std::string_view name) {
  for (const DriverSpec* d : driver_table()) {
    if (d->name == name) return d;
  }
  return nullptr;
}

std::string driver_names() {
  std::string names;
  for (const DriverSpec* d : driver_table()) {
    if (!names.empty()) names += ", ";
    names += d->name;
  }
  return names;
}

}  // namespace opsync::drivers
