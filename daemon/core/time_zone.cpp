// Naive local time -> UTC using fixed offsets or the system tz database (via TZ + mktime).
#include "core/time_zone.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <mutex>

namespace opsync {
namespace {
std::mutex g_tz_mutex;  // TZ is process-global; serialise the switch around mktime.
}

TimeZone TimeZone::utc() { return TimeZone{}; }

std::optional<TimeZone> TimeZone::parse(std::string_view spec) {
  TimeZone z;
  if (spec == "UTC" || spec == "utc" || spec == "Z" || spec == "GMT") return z;
  if (!spec.empty() && (spec[0] == '+' || spec[0] == '-')) {
    const int sign = spec[0] == '-' ? -1 : 1;
    std::string digits;
    for (char c : spec.substr(1)) {
      if (c == ':') continue;
      if (c < '0' || c > '9') return std::nullopt;
      digits += c;
    }
    if (digits.size() != 2 && digits.size() != 4) return std::nullopt;
    const int h = std::stoi(digits.substr(0, 2));
    const int m = digits.size() == 4 ? std::stoi(digits.substr(2, 2)) : 0;
    if (h > 14 || m > 59) return std::nullopt;
    z.offset_s_ = sign * (h * 3600 + m * 60);
    z.name_ = fmt::format("{}{:02d}:{:02d}", sign < 0 ? '-' : '+', h, m);
    return z;
  }
  // IANA name: must exist in the zoneinfo database, else a typo would silently mean UTC.
  if (spec.empty() || spec.find("..") != std::string_view::npos) return std::nullopt;
  const std::filesystem::path file = std::filesystem::path("/usr/share/zoneinfo") / std::string(spec);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  z.name_ = std::string(spec);
  z.fixed_ = false;
  return z;
}

int64_t TimeZone::local_to_utc_ns(const CivilTime& local) const {
  const int64_t as_utc = civil_to_ns(local);
  if (fixed_) return as_utc - int64_t{offset_s_} * kNsPerS;
  std::lock_guard<std::mutex> lock(g_tz_mutex);
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  setenv("TZ", name_.c_str(), 1);
  tzset();
  std::tm tm{};
  tm.tm_year = local.year - 1900;
  tm.tm_mon = local.month - 1;
  tm.tm_mday = local.day;
  tm.tm_hour = local.hour;
  tm.tm_min = local.minute;
  tm.tm_sec = local.second;
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  return int64_t{t} * kNsPerS + local.nanos;
}

}  // namespace opsync
