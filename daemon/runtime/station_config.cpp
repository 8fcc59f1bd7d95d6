// station.toml loading and validation.
#include "runtime/station_config.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "drivers/driver_table.h"

namespace opsync::runtime {

StationConfig parse_station_config(const std::string& text, const std::string& file_name) {
  StationConfig c;
  c.file = file_name;
  c.text = text;
  try {
    c.document = std::make_shared<toml::table>(toml::parse(text, file_name));
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: {}", file_name, e.source().begin.line, e.source().begin.column,
                                  e.description()));
  }
  ConfigTable root(*c.document, "", file_name);

  auto station = root.table("station");
  if (!station) root.fail("station", "is required: [station] with db and session");
  c.db_path = station->require_str("db");
  c.db_where = station->location("db");
  c.session = station->require_str("session");
  if (c.session.empty()) station->fail("session", "must not be empty");
  c.note = station->str("note").value_or("");
  station->finish();

  if (auto clock = root.table("clock")) {
    c.clock_mode = clock->str("mode").value_or("real");
    if (c.clock_mode != "real" && c.clock_mode != "sim") clock->fail("mode", "must be \"real\" or \"sim\"");
    c.sim_clock_file = clock->str("sim_clock_file").value_or("");
    if (c.clock_mode == "sim" && c.sim_clock_file.empty()) {
      clock->fail("sim_clock_file", "is required with mode = \"sim\" (the clock file `opsync sim` writes)");
    }
    clock->finish();
  }

  c.http_where = fmt::format("{}: '[status] http' (not set: default {})", file_name, c.http_listen);
  if (auto status = root.table("status")) {
    if (auto http = status->str("http")) {
      c.http_listen = *http;
      c.http_where = status->location("http");
    }
    c.status_line = status->boolean("line").value_or(true);
    c.status_period_s = status->number("period_s").value_or(1.0);
    if (c.status_period_s <= 0) status->fail("period_s", "must be positive");
    status->finish();
  }
  if (!c.http_listen.empty()) {
    std::string err;
    auto listen = parse_listen_address(c.http_listen, err);
    if (!listen) throw ConfigError(fmt::format("{}: '{}': {}", c.http_where, c.http_listen, err));
    c.http = *listen;
  }

  if (auto store = root.table("store")) {
    if (auto n = store->integer("batch_max_samples")) {
      if (*n < 1) store->fail("batch_max_samples", "must be at least 1");
      c.batch_max_samples = static_cast<size_t>(*n);
    }
    c.batch_max_age_s = store->number("batch_max_age_s").value_or(c.batch_max_age_s);
    if (c.batch_max_age_s <= 0 || c.batch_max_age_s > 10) store->fail("batch_max_age_s", "must be in (0, 10] seconds");
    store->finish();
  }

  std::set<std::string> names;
  auto sources = root.array_of_tables("source");
  for (ConfigTable& s : sources) {
    SourceConfig sc;
    sc.name = s.require_str("name");
    if (sc.name.empty()) s.fail("name", "must not be empty");
    if (!names.insert(sc.name).second) s.fail("name", fmt::format("'{}' is used by two sources", sc.name));
    sc.driver = s.require_str("driver");
    if (!drivers::find_driver(sc.driver)) {
      s.fail("driver", fmt::format("'{}' is not a driver (known: {})", sc.driver, drivers::driver_names()));
    }
    sc.address_text = s.require_str("address");
    std::string err;
    auto addr = parse_address(sc.address_text, err);
    if (!addr) s.fail("address", err);
    sc.address = *addr;
    sc.reconnect_min_s = s.number("reconnect_min_s").value_or(sc.reconnect_min_s);
    sc.reconnect_max_s = s.number("reconnect_max_s").value_or(sc.reconnect_max_s);
    if (sc.reconnect_min_s <= 0 || sc.reconnect_max_s < sc.reconnect_min_s) {
      s.fail("reconnect_max_s", "reconnect_min_s must be positive and not above reconnect_max_s");
    }
    sc.read_timeout_s = s.number("read_timeout_s").value_or(0);
    if (sc.read_timeout_s < 0) s.fail("read_timeout_s", "must not be negative");
    sc.transport_delay_s = s.number("transport_delay_s").value_or(0);
    if (!(sc.transport_delay_s >= 0 && sc.transport_delay_s < 86400)) {
      s.fail("transport_delay_s", "must be between 0 and 86400 s");
    }
    // The rest of the keys belong to the driver: it reads them and calls finish().
    sc.options = std::make_shared<ConfigTable>(s);
    c.sources.push_back(std::move(sc));
  }
  if (c.sources.empty()) root.fail("source", "at least one [[source]] is required");
  root.finish();
  return c;
}

StationConfig load_station_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("cannot read config file '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  StationConfig c = parse_station_config(ss.str(), path);
  // A relative db path is relative to the config file, so the station works from any folder.
  if (!c.db_path.empty() && std::filesystem::path(c.db_path).is_relative()) {
    c.db_path = (std::filesystem::path(path).parent_path() / c.db_path).lexically_normal().string();
  }
  if (!c.sim_clock_file.empty() && std::filesystem::path(c.sim_clock_file).is_relative()) {
    c.sim_clock_file = (std::filesystem::path(path).parent_path() / c.sim_clock_file).lexically_normal().string();
  }
  return c;
}

}  // namespace opsync::runtime
