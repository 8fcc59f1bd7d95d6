// Strict reading of a TOML table: typed getters that name the key (with its line) on a wrong
// type or value, and finish() that rejects every key nobody asked for, so a typo in
// station.toml is an error at start, not a silently ignored setting.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <toml++/toml.h>
#include <vector>

#include "core/config_problem.h"

namespace opsync {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigTable {
 public:
  ConfigTable(const toml::table& table, std::string path, std::string file);

  std::optional<std::string> str(const std::string& key);
  std::optional<double> number(const std::string& key);  // integer or float in the file
  std::optional<int64_t> integer(const std::string& key);
  // A duration given as a number of units (1 for *_s keys, 1e-3 for *_ms keys), in ns; values
  // beyond int64 saturate, so that a range check after it still sees them out of range.
  std::optional<int64_t> duration_ns(const std::string& key, double unit_s = 1.0);
  // An integer narrowed to Int, clamped at Int's limits: a value out of Int's range stays out of
  // any smaller range a problems() check then applies, instead of wrapping into it.
  template <typename Int>
  std::optional<Int> integer_as(const std::string& key) {
    const auto v = integer(key);
    if (!v) return std::nullopt;
    return static_cast<Int>(std::clamp<int64_t>(*v, std::numeric_limits<Int>::min(),
                                                std::numeric_limits<Int>::max()));
  }
  std::optional<bool> boolean(const std::string& key);
  std::optional<std::vector<int64_t>> int_array(const std::string& key);
  std::string require_str(const std::string& key);
  std::optional<ConfigTable> table(const std::string& key);
  std::vector<ConfigTable> array_of_tables(const std::string& key);

  // Every key of this table must have been read.
  void finish() const;
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  // Throws one ConfigError listing every problem, each with its key's location; nothing if none.
  void check(const ConfigProblems& problems) const;
  // "file:line: 'path.key'", for messages about a value found wrong after loading (a port in use).
  std::string location(const std::string& key) const { return where(key); }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

 private:
  const toml::node* get(const std::string& key);
  std::string where(const std::string& key) const;

  const toml::table* table_;
  std::string path_;  // "source[2]" etc., "" for the root
  std::string file_;
  std::set<std::string> used_;
};

}  // namespace opsync
