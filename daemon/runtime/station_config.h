// station.toml: where to record, which clock, which instruments at which addresses. Loaded and
// validated entirely at start; every error names the file, line and key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/address.h"
#include "core/config_table.h"

namespace opsync::runtime {

struct SourceConfig {
  std::string name;
  std::string driver;     // a row of the driver table (drivers/driver_table.h)
  std::string address_text;
  Address address;
  double reconnect_min_s = 0.5;
  double reconnect_max_s = 10.0;
  double read_timeout_s = 0;  // 0: none (the driver's own reply timeouts apply)
  // Time the measured medium takes to reach the instrument (a DEMS capillary): recorded with the
  // source (sources.transport_delay_s) so the correlator corrects gas onsets by default. Data
  // times are not shifted.
  double transport_delay_s = 0;
  // Driver-specific keys, read (and checked for unknown keys) by the driver factory.
  std::shared_ptr<ConfigTable> options;
};

struct StationConfig {
  std::string file;
  std::string text;  // the file as read: stored with the session (event station_config) for replay
  std::string db_path;
  std::string db_where;  // "file:line: 'station.db'", for errors about the file at start
  std::string session;
  std::string note;
  std::string clock_mode = "real";  // real | sim
  std::string sim_clock_file;       // for clock_mode = sim: published by `opsync sim`
  std::string http_listen = "127.0.0.1:8642";  // "" = no HTTP status endpoint
  ListenAddress http;                          // http_listen, parsed and checked
  std::string http_where;                      // "file:line: 'status.http'", for errors at bind time
  bool status_line = true;
  double status_period_s = 1.0;
  size_t batch_max_samples = 65536;
  double batch_max_age_s = 0.1;
  std::vector<SourceConfig> sources;
  std::shared_ptr<toml::table> document;  // owns the tables the options point into
};

// Throws ConfigError.
StationConfig load_station_config(const std::string& path);
StationConfig parse_station_config(const std::string& text, const std::string& file_name);

}  // namespace opsync::runtime
