// Field splitting and number parsing for delimited text, independent of the C locale.
#include "import/common/delimited.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "core/time_format.h"

namespace opsync::import {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Copies a number into `buf` with a decimal comma turned into a point. Returns the used length,
// or 0 when the text cannot be a number (too long, or more than one separator).
size_t normalise_number(std::string_view s, bool decimal_comma, char* buf, size_t cap) {
  if (s.size() >= cap) return 0;
  size_t commas = 0;
  bool has_point = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ',') {
      ++commas;
      c = '.';
    } else if (c == '.') {
      has_point = true;
    }
    buf[i] = c;
  }
  // "1,234.5" (thousands separator) or a comma in a comma-delimited file is not a number here.
  if (commas > 0 && (!decimal_comma || commas > 1 || has_point)) return 0;
  return s.size();
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

char detect_delimiter(std::string_view line) {
  size_t tabs = 0, semis = 0, commas = 0;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\t') ++tabs;
    if (c == ';') ++semis;
    if (c == ',') ++commas;
  }
  if (tabs > 0) return '\t';
  if (semis > commas) return ';';
  return ',';
}

void split_fields(std::string_view line, char d, std::vector<std::string_view>& out) {
  out.clear();
  if (line.find('"') == std::string_view::npos) {
    size_t start = 0;
    while (true) {
      const size_t e = line.find(d, start);
      if (e == std::string_view::npos) {
        out.push_back(line.substr(start));
        return;
      }
      out.push_back(line.substr(start, e - start));
      start = e + 1;
    }
  }
  const size_t n = line.size();
  size_t i = 0;
  while (true) {
    size_t j = i;
    while (j < n && line[j] == ' ') ++j;
    if (j < n && line[j] == '"') {
      size_t k = j + 1;
      while (k < n) {
        if (line[k] == '"') {
          if (k + 1 < n && line[k + 1] == '"') {
            k += 2;
            continue;
          }
          break;
        }
        ++k;
      }
      out.push_back(line.substr(j + 1, k - (j + 1)));
      const size_t e = line.find(d, k < n ? k + 1 : n);
      if (e == std::string_view::npos) return;
      i = e + 1;
    } else {
      const size_t e = line.find(d, i);
      if (e == std::string_view::npos) {
        out.push_back(line.substr(i));
        return;
      }
      out.push_back(line.substr(i, e - i));
      i = e + 1;
    }
  }
}

bool is_missing_text(std::string_view s) {
  if (s.empty()) return true;
  if (s.size() > 5) return false;
  return iequals(s, "nan") || iequals(s, "-nan") || iequals(s, "n/a") || iequals(s, "na") ||
         iequals(s, "#n/a") || iequals(s, "null") || iequals(s, "xxxx") || s == "-" || s == "--";
}

Number parse_number(std::string_view field, bool decimal_comma) {
  std::string_view s = trim(field);
  if (is_missing_text(s)) return {NumberStatus::Missing, 0.0};
  if (s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return {};
  char buf[96];
  const size_t len = normalise_number(s, decimal_comma, buf, sizeof buf);
  if (len == 0) return {};
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(buf, buf + len, v);
  if (ec == std::errc::result_out_of_range) {
    // Underflow (1e-400) is zero for any measured quantity; overflow is not a value.
    bool tiny = false;
    for (size_t i = 0; i < len; ++i)
      if (buf[i] == 'e' || buf[i] == 'E') tiny = i + 1 < len && buf[i + 1] == '-';
    if (tiny && ptr == buf + len) return {NumberStatus::Ok, 0.0};
    return {};
  }
  if (ec != std::errc() || ptr != buf + len) return {};
  if (std::isnan(v)) return {NumberStatus::Missing, 0.0};
  if (!std::isfinite(v)) return {};
  return {NumberStatus::Ok, v};
}

std::optional<int64_t> parse_seconds_ns(std::string_view field, bool decimal_comma) {
  std::string_view s = trim(field);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  char buf[96];
  const size_t len = normalise_number(s, decimal_comma, buf, sizeof buf);
  if (len == 0) return std::nullopt;
  return seconds_text_to_ns(std::string_view(buf, len));
}

std::optional<int64_t> parse_scaled_ns(std::string_view field, long double ns_per_unit,
                                       bool decimal_comma) {
  std::string_view s = trim(field);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  char buf[96];
  const size_t len = normalise_number(s, decimal_comma, buf, sizeof buf);
  if (len == 0) return std::nullopt;
  long double v = 0;
  const auto [ptr, ec] = std::from_chars(buf, buf + len, v);
  if (ec != std::errc() || ptr != buf + len || !std::isfinite(v)) return std::nullopt;
  const long double ns = v * ns_per_unit;
  if (std::fabs(ns) > 9.2e18L) return std::nullopt;
  return static_cast<int64_t>(std::llround(ns));
}

std::optional<int64_t> parse_elapsed_ns(std::string_view field) {
  std::string_view s = trim(field);
  size_t p = 0;
  auto read_int = [&](int64_t& v) {
    const size_t start = p;
    v = 0;
    while (p < s.size() && is_digit(s[p]) && p - start < 12) v = v * 10 + (s[p++] - '0');
    return p > start;
  };
  int64_t days = 0, hours = 0, minutes = 0;
  int64_t first = 0;
  if (!read_int(first)) return std::nullopt;
  if (p < s.size() && (s[p] == 'd' || s[p] == 'D')) {
    days = first;
    ++p;
    while (p < s.size() && (s[p] == ' ' || s[p] == '.')) ++p;
    if (!read_int(hours)) return std::nullopt;
  } else {
    hours = first;
  }
  if (p >= s.size() || s[p] != ':') return std::nullopt;
  ++p;
  if (!read_int(minutes) || p >= s.size() || s[p] != ':') return std::nullopt;
  ++p;
  const std::string_view sec_text = s.substr(p);
  if (sec_text.empty() || !is_digit(sec_text.front())) return std::nullopt;
  const auto sec_ns = seconds_text_to_ns(sec_text);
  if (!sec_ns || minutes > 59) return std::nullopt;
  return ((days * 24 + hours) * 60 + minutes) * 60 * kNsPerS + *sec_ns;
}

std::optional<int64_t> parse_int64(std::string_view field) {
  std::string_view s = trim(field);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace opsync::import
