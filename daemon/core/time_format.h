// Reference time is int64 nanoseconds since the Unix epoch (UTC). This file converts it to and
// from civil date-time text; it never goes through doubles for absolute time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace opsync {

inline constexpr int64_t kNsPerS = 1'000'000'000;

// Civil date-time fields, no zone attached.
struct CivilTime {
  int year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;  // 0..60 (60 accepted for leap-second stamps, folded into the next minute)
  int64_t nanos = 0;
};

// Nanoseconds since the epoch for civil fields read as UTC. No range check beyond the fields.
int64_t civil_to_ns(const CivilTime& c);
CivilTime ns_to_civil(int64_t t_ns);
bool civil_is_valid(const CivilTime& c);

// "2024-01-17T14:22:01.146614Z" with `decimals` fraction digits (0..9).
std::string format_iso_utc(int64_t t_ns, int decimals = 6);

// Parses ISO 8601 date-times: "YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM|+HHMM]".
// Returns the UTC instant when a zone is given, and `has_zone` says whether one was.
struct ParsedDateTime {
  CivilTime civil;
  bool has_zone = false;
  int32_t zone_offset_s = 0;  // local - UTC, valid when has_zone
};
std::optional<ParsedDateTime> parse_iso_datetime(std::string_view text);

// Seconds (possibly fractional, as text) to integer nanoseconds without going through a double
// for the integer part: "769267.2400" -> 769267240000000. Accepts sign and exponent forms too
// ("8.365199788677273E+000"), falling back to long double for those.
std::optional<int64_t> seconds_text_to_ns(std::string_view text);

// Duration in seconds (already a double, e.g. from a binary file) to ns, rounded to nearest.
int64_t seconds_to_ns(double seconds);

}  // namespace opsync
