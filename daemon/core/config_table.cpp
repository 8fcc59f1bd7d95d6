// Strict TOML table reading with key paths and line numbers in every message.
#include "core/config_table.h"

#include <cmath>
#include <limits>
#include <fmt/format.h>

namespace opsync {

ConfigTable::ConfigTable(const toml::table& table, std::string path, std::string file)
    : table_(&table), path_(std::move(path)), file_(std::move(file)) {}

std::string ConfigTable::where(const std::string& key) const {
  const std::string full = path_.empty() ? key : (key.empty() ? path_ : path_ + "." + key);
  const toml::node* n = key.empty() ? nullptr : table_->get(key);
  const auto& src = n ? n->source() : table_->source();
  if (src.begin.line > 0) return fmt::format("{}:{}: '{}'", file_, src.begin.line, full);
  return fmt::format("{}: '{}'", file_, full);
}

void ConfigTable::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(fmt::format("{}: {}", where(key), message));
}

void ConfigTable::check(const ConfigProblems& problems) const {
  if (problems.empty()) return;
  std::string all;
  for (const ConfigProblem& p : problems) {
    if (!all.empty()) all += "\n";
    all += fmt::format("{}: {}", where(p.key), p.message);
  }
  throw ConfigError(all);
}

const toml::node* ConfigTable::get(const std::string& key) {
  used_.insert(key);
  return table_->get(key);
}

std::optional<std::string> ConfigTable::str(const std::string& key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  if (!n->is_string()) fail(key, "must be a string (in quotes)");
  return n->as_string()->get();
}

std::optional<double> ConfigTable::number(const std::string& key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
  if (n->is_floating_point()) {
    const double v = n->as_floating_point()->get();
    if (!std::isfinite(v)) fail(key, "must be a finite number");
    return v;
  }
  fail(key, "must be a number");
}

std::optional<int64_t> ConfigTable::duration_ns(const std::string& key, double unit_s) {
  const auto v = number(key);
  if (!v) return std::nullopt;
  const double ns = *v * unit_s * 1e9;
  if (ns >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (ns <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::llround(ns));
}

std::optional<int64_t> ConfigTable::integer(const std::string& key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  if (!n->is_integer()) fail(key, "must be a whole number");
  return n->as_integer()->get();
}

std::optional<bool> ConfigTable::boolean(const std::string& key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  if (!n->is_boolean()) fail(key, "must be true or false");
  return n->as_boolean()->get();
}

std::optional<std::vector<int64_t>> ConfigTable::int_array(const std::string& key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  const toml::array* a = n->as_array();
  if (!a) fail(key, "must be an array of whole numbers, e.g. [32, 44]");
  std::vector<int64_t> out;
  for (const toml::node& e : *a) {
    if (!e.is_integer()) fail(key, "must be an array of whole numbers, e.g. [32, 44]");
    out.push_back(e.as_integer()->get());
  }
  return out;
}

std::string ConfigTable::require_str(const std::string& key) {
  auto v = str(key);
  if (!v) fail(key, "is required");
  return *v;
}

std::optional<ConfigTable> ConfigTable::table(const std::string& key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  if (!n->is_table()) fail(key, "must be a table ([section])");
  return ConfigTable(*n->as_table(), path_.empty() ? key : path_ + "." + key, file_);
}

std::vector<ConfigTable> ConfigTable::array_of_tables(const std::string& key) {
  const toml::node* n = get(key);
  std::vector<ConfigTable> out;
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a || !a->is_array_of_tables()) fail(key, fmt::format("must be written as [[{}]] sections", key));
  size_t i = 0;
  for (const toml::node& e : *a) {
    out.emplace_back(*e.as_table(), fmt::format("{}[{}]", path_.empty() ? key : path_ + "." + key, i++), file_);
  }
  return out;
}

void ConfigTable::finish() const {
  for (const auto& [k, v] : *table_) {
    const std::string key(k.str());
    if (!used_.count(key)) fail(key, "unknown key (check the spelling; see docs/daemon.md for the keys)");
  }
}

}  // namespace opsync
