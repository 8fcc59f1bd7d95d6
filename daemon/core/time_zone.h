// Time-zone assumptions for files that store naive local wall-clock time. A zone is either a
// fixed UTC offset ("+01:00", "UTC") or an IANA name ("Europe/Berlin", resolved by the C
// library's tz database, so daylight saving is honoured).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time_format.h"

namespace opsync {

class TimeZone {
 public:
  static TimeZone utc();
  // Parses "UTC", "Z", "+HH:MM", "-HHMM", "+HH", or an IANA name. nullopt if unknown.
  static std::optional<TimeZone> parse(std::string_view spec);

  // UTC instant of a local civil time in this zone. For an ambiguous local time (DST fold)
  // the first occurrence is taken; for a non-existent one (DST gap) mktime's normalisation.
  int64_t local_to_utc_ns(const CivilTime& local) const;
  const std::string& name() const { return name_; }
  bool is_fixed() const { return fixed_; }

 private:
  std::string name_ = "UTC";
  bool fixed_ = true;
  int32_t offset_s_ = 0;  // local - UTC, for fixed zones
};

}  // namespace opsync
