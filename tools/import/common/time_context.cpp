// Zone, start and clock-offset handling shared by all readers.
#include "import/common/time_context.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "import/common/date_text.h"

namespace opsync::import {

std::string format_seconds(double s) { return fmt::format("{:g} s", s); }

TimeContext::TimeContext(const ImportOptions& options, const std::string& file) : file_(file) {
  const std::string zone_spec = options.time_zone.empty() ? "UTC" : options.time_zone;
  auto zone = TimeZone::parse(zone_spec);
  if (!zone) {
    throw ImportError(file, 0, "",
                      fmt::format("unknown time zone '{}' (--tz); use UTC, an offset such as "
                                  "+02:00, or an IANA name such as Europe/Berlin",
                                  zone_spec));
  }
  zone_ = *zone;
  if (!std::isfinite(options.clock_offset_s) || std::fabs(options.clock_offset_s) > 9e9) {
    throw ImportError(file, 0, "",
                      fmt::format("clock offset {} s is not usable; give seconds the file's "
                                  "clock ran ahead, e.g. 2.5",
                                  options.clock_offset_s));
  }
  offset_s_ = options.clock_offset_s;
  offset_ns_ = seconds_to_ns(options.clock_offset_s);
  if (!options.start_iso.empty()) {
    const auto parsed = parse_date_time_text(options.start_iso);
    if (!parsed) {
      throw ImportError(file, 0, "",
                        fmt::format("start '{}' (--start) is not a date-time; use ISO 8601 such "
                                    "as 2024-01-17T14:22:01Z or 2024-01-17 15:22:01 (local, --tz)",
                                    options.start_iso));
    }
    const AbsTime t = resolve(*parsed);
    start_override_ = t.utc_ns;
    start_override_naive_ = t.naive;
  }
  relative_start_ = options.relative_start_ns;
  relative_start_what_ = options.relative_start_what;
}

int64_t TimeContext::local_to_utc_ns(const CivilTime& local) {
  if (zone_.is_fixed()) return zone_.local_to_utc_ns(local);
  const auto key = std::make_tuple(local.year, local.month, local.day, local.hour);
  auto it = hour_offset_ns_.find(key);
  if (it == hour_offset_ns_.end()) {
    CivilTime hour = local;
    hour.minute = 0;
    hour.second = 0;
    hour.nanos = 0;
    it = hour_offset_ns_.emplace(key, zone_.local_to_utc_ns(hour) - civil_to_ns(hour)).first;
  }
  return civil_to_ns(local) + it->second;
}

AbsTime TimeContext::resolve(const ParsedDateTime& parsed) {
  if (parsed.has_zone)
    return {civil_to_ns(parsed.civil) - int64_t{parsed.zone_offset_s} * kNsPerS, false};
  return {local_to_utc_ns(parsed.civil), true};
}

void TimeContext::place_start(ImportResult& result, const std::optional<StartSource>& start) const {
  bool naive = false;
  if (start_override_) {
    result.start_ns = *start_override_;
    result.has_absolute_start = true;
    naive = start_override_naive_;
    result.assumptions.push_back(
        fmt::format("absolute start {} from --start", format_iso_utc(result.start_ns, 6)));
  } else if (start) {
    result.start_ns = start->utc_ns;
    result.has_absolute_start = true;
    naive = start->naive;
    result.assumptions.push_back(
        fmt::format("absolute start {} from {}", format_iso_utc(start->utc_ns, 6), start->what));
  } else if (relative_start_) {
    result.start_ns = *relative_start_;
    result.has_absolute_start = false;
    result.assumptions.push_back(fmt::format(
        "no absolute time in the file: times are relative, placed from {}, {}; give the real start "
        "with --start (ISO 8601) to place them",
        format_iso_utc(result.start_ns, 6),
        relative_start_what_.empty() ? std::string("as given") : relative_start_what_));
  } else {
    result.start_ns = 0;
    result.has_absolute_start = false;
    result.assumptions.push_back(
        "no absolute time in the file: times are relative, placed from 1970-01-01T00:00:00Z; "
        "give the real start with --start (ISO 8601) to place them");
  }
  if (naive) {
    result.assumptions.push_back(fmt::format(
        "file stores naive local time; assumed zone {} (use --tz to set the instrument PC's zone)",
        zone_.name()));
  }
}

void TimeContext::finish(ImportResult& result) const {
  std::erase_if(result.channels, [&](const ChannelData& c) {
    if (!c.t_ns.empty()) return false;
    result.assumptions.push_back(fmt::format("channel '{}' has no values in the file; left out", c.name));
    return true;
  });
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  for (ChannelData& c : result.channels) {
    for (int64_t& t : c.t_ns) {
      t -= offset_ns_;
      lo = std::min(lo, t);
      hi = std::max(hi, t);
    }
  }
  for (EventData& e : result.events) e.t_ns -= offset_ns_;
  for (Damage& d : result.damage)
    if (d.t_ns) *d.t_ns -= offset_ns_;
  for (ScanData& s : result.scans) {
    s.start_ns -= offset_ns_;
    s.end_ns -= offset_ns_;
    lo = std::min(lo, std::min(s.start_ns, s.end_ns));
    hi = std::max(hi, std::max(s.start_ns, s.end_ns));
  }
  if (lo <= hi) {
    result.t_first_ns = lo;
    result.t_last_ns = hi;
  }
  if (offset_ns_ != 0) {
    result.assumptions.push_back(fmt::format(
        "clock offset: {} subtracted from every time (the file's clock ran that far ahead)",
        format_seconds(offset_s_)));
  }
}

}  // namespace opsync::import
