// One recording station: the store writer, the session, one runner per configured source,
// the status line and the HTTP status endpoint, all on one io_context. opsyncd's main() is a
// thin shell around this; tests run it in-process against simulators.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clock/clock.h"
#include "runtime/source_runner.h"
#include "runtime/station_config.h"
#include "store/disk_space.h"
#include "store/writer.h"

namespace opsync::runtime {

class InstanceLock;
class StatusHttpServer;

// Builds the driver for a source from its config (reads and checks the driver's own keys).
using DriverFactory = std::function<std::unique_ptr<drivers::Driver>(const SourceConfig&)>;

class Station {
 public:
  Station(boost::asio::io_context& io, StationConfig config, const clock::Clock& clock, DriverFactory factory,
          TransportFactory make_link = make_transport);
  ~Station();

  // In this order, so that a refused start creates nothing: checks that the store's file and
  // folder are writable, takes the one-daemon-per-database lock (AlreadyRunning names the
  // holder), builds every driver, binds the status port; only then opens the store and the
  // session (resuming it if a previous run ended without a stop, which is recorded), and starts
  // every source. Throws ConfigError, AlreadyRunning, or a store error.
  void start();
  // Stops the sources (letting their stop sequences out), closes the session, flushes.
  void stop(std::function<void()> done);

  // Annotation event at the current reference time. Bytes that are not UTF-8 are replaced
  // (U+FFFD) and the event says so; the returned note says the same for the client ("": none).
  std::string mark(std::string_view text);
  nlohmann::json status_json() const;
  std::string status_line() const;
  records::SessionId session_id() const { return session_id_; }
  const std::vector<std::unique_ptr<SourceRunner>>& runners() const { return runners_; }
  store::StoreWriter& writer() { return *writer_; }

 private:
  void start_locked();
  void tick_status();
  // Disk state (station_disk.cpp): free-space checks each status tick, the writer's reports of a
  // full disk (posted here from its thread), and the flags of the status line and /status.
  void check_disk_space();
  void on_disk_full(const store::DiskFullReport& r);
  nlohmann::json disk_json() const;
  std::string disk_flag() const;
  // "<db>.opsyncd": {"pid", "session", "http"} while running, so local tools find the daemon;
  // locked for the daemon's lifetime (runtime/instance_lock.h).
  std::string runtime_file() const;

  boost::asio::io_context& io_;
  StationConfig config_;
  const clock::Clock& clock_;
  DriverFactory factory_;
  TransportFactory make_link_;
  // Declared before the writer, so that it is released after the writer's last commit.
  std::unique_ptr<InstanceLock> lock_;
  std::unique_ptr<store::StoreWriter> writer_;
  records::SessionId session_id_ = 0;
  int64_t started_ns_ = 0;
  std::vector<std::unique_ptr<SourceRecorder>> recorders_;
  std::vector<std::unique_ptr<SourceRunner>> runners_;
  std::unique_ptr<StatusHttpServer> http_;
  boost::asio::steady_timer status_timer_;
  bool stopping_ = false;
  std::unique_ptr<store::DiskSpaceWatch> disk_watch_;
  int64_t disk_full_since_ns_ = 0;  // reference time of the first failed commit of an episode
};

}  // namespace opsync::runtime
