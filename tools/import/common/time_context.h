// What every reader needs to turn a file's times into UTC ns: the zone for naive local times
// (--tz), the user's absolute start (--start) and clock offset (--clock-offset), and the final
// bookkeeping that applies the offset and writes the matching assumption lines.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "core/time_format.h"
#include "core/time_zone.h"
#include "import/import_types.h"

namespace opsync::import {

// An instant read from the file, and whether it was naive local time (zone assumed).
struct AbsTime {
  int64_t utc_ns = 0;
  bool naive = false;
};

// Where the absolute start of the file's time axis came from.
struct StartSource {
  int64_t utc_ns = 0;
  bool naive = false;
  std::string what;  // "file header 'Acquisition started on : 01/17/2024 15:22:05.748'"
};

class TimeContext {
 public:
  // Throws ImportError for an unknown --tz zone or an unreadable --start.
  TimeContext(const ImportOptions& options, const std::string& file);

  // Naive local civil time -> UTC with the assumed zone.
  int64_t local_to_utc_ns(const CivilTime& local);
  // Parsed date-time -> UTC: its own zone when it has one, else the assumed zone.
  AbsTime resolve(const ParsedDateTime& parsed);

  const std::optional<int64_t>& start_override() const { return start_override_; }
  const std::string& file() const { return file_; }
  const std::string& zone_name() const { return zone_.name(); }

  // Records the chosen start in the result (start_ns, has_absolute_start) and says in the
  // assumptions where it came from; `start` empty means the file has no absolute time.
  void place_start(ImportResult& result, const std::optional<StartSource>& start) const;

  // Applies the clock offset to every time in `result`, computes t_first/t_last, drops
  // channels without samples and notes the offset. Call once, last.
  void finish(ImportResult& result) const;

 private:
  std::string file_;
  TimeZone zone_;
  std::optional<int64_t> start_override_;
  bool start_override_naive_ = false;
  std::optional<int64_t> relative_start_;  // where a file without absolute time is placed
  std::string relative_start_what_;
  int64_t offset_ns_ = 0;
  double offset_s_ = 0.0;
  // Zone offsets of IANA zones, per local hour, so mktime runs once per hour of data.
  std::map<std::tuple<int, int, int, int>, int64_t> hour_offset_ns_;
};

// "2.5 s" / "-3600 s" for assumption lines.
std::string format_seconds(double s);

}  // namespace opsync::import
