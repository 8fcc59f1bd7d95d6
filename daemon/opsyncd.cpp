// opsyncd: records every configured instrument of a station on one clock into the session
// store until SIGINT/SIGTERM (or --duration-s), then closes the session cleanly.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "clock/clock.h"
#include "drivers/driver_table.h"
#include "opsync_version.h"
#include "runtime/driver_factory.h"
#include "runtime/instance_lock.h"
#include "runtime/sim_clock_file.h"
#include "runtime/station.h"
#include "runtime/station_config.h"

namespace {

std::unique_ptr<opsync::clock::Clock> make_clock(const opsync::runtime::StationConfig& c) {
  if (c.clock_mode == "sim") {
    return std::make_unique<opsync::clock::SimClock>(
        opsync::runtime::read_sim_clock_file(c.sim_clock_file, std::chrono::milliseconds(10000)));
  }
  return std::make_unique<opsync::clock::RealClock>();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "opsyncd: records a battery cycler, a DEMS mass spectrometer and diffraction scan triggers on one clock\n"
      "into the station's SQLite session store. Stop with Ctrl-C (SIGINT) or SIGTERM: everything is flushed\n"
      "and the session closed. Status: the terminal line, and GET http://127.0.0.1:8642/status (see [status]).\n"
      "Configuration: docs/daemon.md. Exit status: 0 stopped cleanly, 1 error, 2 configuration error (nothing\n"
      "created), 3 another opsyncd already records into the same database (nothing touched)."};
  std::string config_path;
  double duration_s = 0;
  bool summary_json = false;
  app.add_option("-c,--config", config_path, "Station configuration (TOML)")->required()->check(CLI::ExistingFile);
  app.add_option("--duration-s", duration_s, "Stop by itself after this many seconds of wall time (0: run until signalled)");
  app.add_flag("--summary-json", summary_json, "Print the final status as JSON on stdout when stopping");
  app.add_flag_callback(
      "--drivers",
      [] {
        for (const opsync::drivers::DriverSpec* d : opsync::drivers::driver_table()) {
          fmt::print("# {}: {}\n{}\n", d->name, d->summary, d->station_example);
        }
        throw CLI::Success();
      },
      "Print every driver this opsyncd knows, each with a [[source]] example of its keys, and exit");
  app.set_version_flag("--version", "opsyncd " OPSYNC_VERSION);
  CLI11_PARSE(app, argc, argv);

  opsync::runtime::StationConfig config;
  try {
    config = opsync::runtime::load_station_config(config_path);
  } catch (const std::exception& e) {
    fmt::print(stderr, "opsyncd: configuration error: {}\n", e.what());
    return 2;
  }
  try {
    const auto clock = make_clock(config);
    boost::asio::io_context io;
    // Installed before the start, so that a signal during it is a clean stop right after it
    // (tools find the daemon as soon as start() publishes <db>.opsyncd).
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    opsync::runtime::Station station(io, config, *clock, opsync::runtime::make_driver);
    station.start();
    fmt::print(stderr, "opsyncd: recording session '{}' into {} ({} sources, clock {}{})\n", config.session,
               config.db_path, config.sources.size(), config.clock_mode,
               config.clock_mode == "sim" ? fmt::format(" x{:g}", clock->speed()) : "");
    bool stopping = false;
    auto shutdown = [&] {
      if (stopping) return;
      stopping = true;
      if (summary_json) {
        fmt::print("{}\n", station.status_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      station.stop([&io] { io.stop(); });
    };
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      fmt::print(stderr, "\nopsyncd: {} received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      shutdown();
    });
    boost::asio::steady_timer duration_timer(io);
    if (duration_s > 0) {
      duration_timer.expires_after(std::chrono::microseconds(static_cast<int64_t>(duration_s * 1e6)));
      duration_timer.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) shutdown();
      });
    }
    io.run();
    fmt::print(stderr, "opsyncd: session '{}' closed\n", config.session);
  } catch (const opsync::ConfigError& e) {
    fmt::print(stderr, "opsyncd: configuration error: {}\n", e.what());
    return 2;
  } catch (const opsync::runtime::AlreadyRunning& e) {
    fmt::print(stderr, "opsyncd: {}\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "opsyncd: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
