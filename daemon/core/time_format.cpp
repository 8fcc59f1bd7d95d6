// Civil date-time <-> int64 ns conversions and ISO 8601 text, on std::chrono's calendar types.
#include "core/time_format.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

namespace opsync {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at pos; advances pos.
std::optional<int> read_digits(std::string_view s, size_t& pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

}  // namespace

int64_t civil_to_ns(const CivilTime& c) {
  using namespace std::chrono;
  const sys_days d = year{c.year} / month{static_cast<unsigned>(c.month)} / day{static_cast<unsigned>(c.day)};
  const int64_t days = d.time_since_epoch().count();
  const int64_t secs = days * 86400 + int64_t{c.hour} * 3600 + int64_t{c.minute} * 60 + c.second;
  return secs * kNsPerS + c.nanos;
}

CivilTime ns_to_civil(int64_t t_ns) {
  using namespace std::chrono;
  int64_t secs = t_ns / kNsPerS;
  int64_t nanos = t_ns % kNsPerS;
  if (nanos < 0) {
    nanos += kNsPerS;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  CivilTime c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  c.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod % 3600 / 60);
  c.second = static_cast<int>(sod % 60);
  c.nanos = nanos;
  return c;
}

bool civil_is_valid(const CivilTime& c) {
  using namespace std::chrono;
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31) return false;
  const year_month_day ymd{year{c.year}, month{static_cast<unsigned>(c.month)}, day{static_cast<unsigned>(c.day)}};
  return ymd.ok() && c.hour >= 0 && c.hour < 24 && c.minute >= 0 && c.minute < 60 && c.second >= 0 &&
         c.second <= 60 && c.nanos >= 0 && c.nanos < kNsPerS;
}

std::string format_iso_utc(int64_t t_ns, int decimals) {
  const CivilTime c = ns_to_civil(t_ns);
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", c.year, c.month, c.day, c.hour,
                                c.minute, c.second);
  if (decimals > 0) {
    if (decimals > 9) decimals = 9;
    int64_t frac = c.nanos;
    for (int i = decimals; i < 9; ++i) frac /= 10;
    out += fmt::format(".{:0{}d}", frac, decimals);
  }
  out += 'Z';
  return out;
}

std::optional<ParsedDateTime> parse_iso_datetime(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  ParsedDateTime out;
  CivilTime& c = out.civil;
  size_t p = 0;
  auto y = read_digits(s, p, 4);
  if (!y || p >= s.size() || s[p] != '-') return std::nullopt;
  ++p;
  auto mo = read_digits(s, p, 2);
  if (!mo || p >= s.size() || s[p] != '-') return std::nullopt;
  ++p;
  auto d = read_digits(s, p, 2);
  if (!d) return std::nullopt;
  c.year = *y;
  c.month = *mo;
  c.day = *d;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return std::nullopt;
    ++p;
    auto h = read_digits(s, p, 2);
    if (!h || p >= s.size() || s[p] != ':') return std::nullopt;
    ++p;
    auto mi = read_digits(s, p, 2);
    if (!mi) return std::nullopt;
    c.hour = *h;
    c.minute = *mi;
    if (p < s.size() && s[p] == ':') {
      ++p;
      auto sec = read_digits(s, p, 2);
      if (!sec) return std::nullopt;
      c.second = *sec;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        int64_t scale = kNsPerS / 10;
        size_t start = p;
        while (p < s.size() && is_digit(s[p])) {
          c.nanos += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
        }
        if (p == start) return std::nullopt;
      }
    }
    if (p < s.size()) {
      if (s[p] == 'Z' || s[p] == 'z') {
        out.has_zone = true;
        ++p;
      } else if (s[p] == '+' || s[p] == '-') {
        const int sign = s[p] == '-' ? -1 : 1;
        ++p;
        auto zh = read_digits(s, p, 2);
        if (!zh) return std::nullopt;
        if (p < s.size() && s[p] == ':') ++p;
        auto zm = read_digits(s, p, 2);
        if (!zm) return std::nullopt;
        out.has_zone = true;
        out.zone_offset_s = sign * (*zh * 3600 + *zm * 60);
      }
    }
  }
  if (p != s.size() || !civil_is_valid(c)) return std::nullopt;
  return out;
}

std::optional<int64_t> seconds_text_to_ns(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  size_t p = 0;
  bool neg = false;
  if (s[p] == '+' || s[p] == '-') {
    neg = s[p] == '-';
    ++p;
  }
  // Exact path: plain decimal with at most 9 fraction digits beyond which we round.
  int64_t whole = 0;
  size_t int_start = p;
  while (p < s.size() && is_digit(s[p])) {
    if (whole > (INT64_MAX / kNsPerS) / 10) return std::nullopt;  // beyond ~292 years
    whole = whole * 10 + (s[p] - '0');
    ++p;
  }
  bool any_digits = p > int_start;
  int64_t frac_ns = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int64_t scale = kNsPerS / 10;
    size_t frac_start = p;
    while (p < s.size() && is_digit(s[p])) {
      if (scale > 0) {
        frac_ns += (s[p] - '0') * scale;
        scale /= 10;
      }
      ++p;
    }
    // Digits beyond the nanosecond: round half up on the 10th fraction digit.
    if (p - frac_start > 9 && (s[frac_start + 9] - '0') >= 5) frac_ns += 1;
    any_digits = any_digits || p > frac_start;
  }
  if (!any_digits) return std::nullopt;
  if (p == s.size()) {
    const int64_t v = whole * kNsPerS + frac_ns;
    return neg ? -v : v;
  }
  if (s[p] != 'e' && s[p] != 'E') return std::nullopt;
  // Exponent form: parse the whole text as long double (64-bit mantissa keeps ns for ~1e10 s);
  // from_chars, unlike strtold, ignores the process locale.
  long double v = 0;
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  const auto r = std::from_chars(first, s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  const long double ns = v * 1e9L;
  if (std::fabs(ns) > 9.2e18L) return std::nullopt;
  return static_cast<int64_t>(std::llround(ns));
}

int64_t seconds_to_ns(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1e9)); }

}  // namespace opsync
