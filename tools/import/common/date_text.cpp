// Date-time cell parsing beyond ISO 8601: the US month-first forms cycler software writes.
#include "import/common/date_text.h"

#include <array>
#include <string>

#include "import/common/delimited.h"

namespace opsync::import {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Reads 1..max_digits digits at p.
std::optional<int> read_number(std::string_view s, size_t& p, size_t max_digits) {
  const size_t start = p;
  int v = 0;
  while (p < s.size() && is_digit(s[p]) && p - start < max_digits) v = v * 10 + (s[p++] - '0');
  if (p == start) return std::nullopt;
  return v;
}

std::optional<int> read_month_name(std::string_view s, size_t& p) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (p + 3 > s.size()) return std::nullopt;
  const char m[3] = {lower(s[p]), lower(s[p + 1]), lower(s[p + 2])};
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (std::string_view(m, 3) == kMonths[i]) {
      p += 3;
      while (p < s.size() && ((s[p] >= 'a' && s[p] <= 'z') || (s[p] >= 'A' && s[p] <= 'Z'))) ++p;
      return static_cast<int>(i) + 1;
    }
  }
  return std::nullopt;
}

// "MM/DD/YYYY[ HH:MM[:SS[.fff]][ AM|PM]]", "DD-Mon-YY ...".
std::optional<ParsedDateTime> parse_month_first(std::string_view s) {
  ParsedDateTime out;
  CivilTime& c = out.civil;
  size_t p = 0;
  const auto a = read_number(s, p, 2);
  if (!a || p >= s.size()) return std::nullopt;
  const char sep = s[p];
  if (sep != '/' && sep != '-' && sep != '.') return std::nullopt;
  ++p;
  if (auto mon = read_month_name(s, p)) {
    c.day = *a;
    c.month = *mon;
  } else {
    const auto b = read_number(s, p, 2);
    if (!b) return std::nullopt;
    c.month = *a;
    c.day = *b;
  }
  if (p >= s.size() || s[p] != sep) return std::nullopt;
  ++p;
  const size_t ystart = p;
  const auto y = read_number(s, p, 4);
  if (!y) return std::nullopt;
  c.year = p - ystart == 2 ? 2000 + *y : *y;
  if (p - ystart != 2 && p - ystart != 4) return std::nullopt;
  if (p < s.size()) {
    if (s[p] != ' ' && s[p] != 'T') return std::nullopt;
    while (p < s.size() && (s[p] == ' ' || s[p] == 'T')) ++p;
    const auto h = read_number(s, p, 2);
    if (!h || p >= s.size()) return std::nullopt;
    const char tsep = s[p];
    if (tsep != ':' && tsep != '.') return std::nullopt;
    ++p;
    const auto mi = read_number(s, p, 2);
    if (!mi) return std::nullopt;
    c.hour = *h;
    c.minute = *mi;
    if (p < s.size() && s[p] == tsep) {
      ++p;
      const auto sec = read_number(s, p, 2);
      if (!sec) return std::nullopt;
      c.second = *sec;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        int64_t scale = kNsPerS / 10;
        const size_t fstart = p;
        while (p < s.size() && is_digit(s[p])) {
          c.nanos += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
        }
        if (p == fstart) return std::nullopt;
      }
    }
    while (p < s.size() && s[p] == ' ') ++p;
    if (p + 2 <= s.size() && (lower(s[p]) == 'a' || lower(s[p]) == 'p') && lower(s[p + 1]) == 'm') {
      if (c.hour < 1 || c.hour > 12) return std::nullopt;
      const bool pm = lower(s[p]) == 'p';
      if (c.hour == 12) c.hour = 0;
      if (pm) c.hour += 12;
      p += 2;
    }
  }
  if (p != s.size() || !civil_is_valid(c)) return std::nullopt;
  return out;
}

}  // namespace

std::optional<ParsedDateTime> parse_date_time_text(std::string_view text) {
  const std::string_view s = trim(text);
  if (s.size() < 6) return std::nullopt;
  const bool year_first = s.size() >= 10 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) &&
                          is_digit(s[3]) && (s[4] == '-' || s[4] == '/' || s[4] == '.');
  if (year_first) {
    if (s[4] == '-') return parse_iso_datetime(s);
    // "2020/03/25 11:16:50": year-first with another separator, otherwise ISO.
    std::string iso(s);
    if (iso[7] != s[4]) return std::nullopt;
    iso[4] = '-';
    iso[7] = '-';
    return parse_iso_datetime(iso);
  }
  return parse_month_first(s);
}

}  // namespace opsync::import
