// opsyncd against opsync-bridge-host, as two processes on a pseudo-terminal, for the HIL test and
// the clock-sync benchmark. Both follow one reference clock: a clock.json at speed 1 (the file
// `opsync sim` writes; here written directly), so time runs at 1x and the host build's truth and
// the daemon's record are on exactly the same clock (two RealClocks would each take
// CLOCK_REALTIME at their own start and differ by whatever NTP slewed in between).
//
// Bounded: opsyncd stops itself after `seconds`; it is waited for with a deadline, then the host
// build is stopped (SIGTERM, which flushes its truth file); every process is stopped (SIGTERM,
// then SIGKILL) when the function returns, whatever happened. With `done` set (the HIL test),
// `seconds` only bounds a hang: opsyncd is stopped with SIGTERM as soon as `done` says that what
// the caller waits for is in the store, so that a slow machine takes longer but decides nothing.
#pragma once

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/child_process.h"

namespace opsync::test {

struct BridgeHostSessionOptions {
  std::filesystem::path dir;       // exists; clock.json, station.toml, the database and logs go here
  std::string host_binary;         // opsync-bridge-host
  std::string daemon_binary;       // opsyncd
  double seconds = 30;             // opsyncd --duration-s
  std::vector<std::string> host_args;    // drift, offset, jitter, edges... as opsync-bridge-host takes them
  std::vector<std::string> source_keys;  // extra lines of the bridge's [[source]] table
  std::function<bool()> done;            // polled every 200 ms; true: stop opsyncd now
};

struct BridgeHostSession {
  std::filesystem::path db, truth, host_log, daemon_log;
  int host_rc = -1;    // exit status after SIGTERM (0: clean, truth complete)
  int daemon_rc = -1;  // -1: did not stop by itself in time
  std::string error;   // what did not start, if anything
};

inline int64_t read_clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A simulation clock file at speed 1: t_ref = epoch + (CLOCK_MONOTONIC - anchor).
inline void write_shared_clock_file(const std::filesystem::path& path) {
  const int64_t epoch_ns = read_clock_ns(CLOCK_REALTIME);
  const int64_t anchor_ns = read_clock_ns(CLOCK_MONOTONIC);
  std::ofstream(path) << fmt::format("{{\"epoch_ns\": {}, \"anchor_monotonic_ns\": {}, \"speed\": 1.0}}\n", epoch_ns,
                                     anchor_ns);
}

inline BridgeHostSession run_bridge_host_session(const BridgeHostSessionOptions& o) {
  namespace fs = std::filesystem;
  BridgeHostSession s;
  s.db = o.dir / "station.db";
  s.truth = o.dir / "bridge_truth.csv";
  s.host_log = o.dir / "bridge_host.log";
  s.daemon_log = o.dir / "opsyncd.log";
  const fs::path clock = o.dir / "clock.json";
  const fs::path link = o.dir / "bridge.tty";
  write_shared_clock_file(clock);

  std::vector<std::string> host_argv = {o.host_binary,   "--link",  link.string(),     "--clock-file",
                                        clock.string(), "--truth", s.truth.string()};
  host_argv.insert(host_argv.end(), o.host_args.begin(), o.host_args.end());
  Process host(host_argv, s.host_log.string());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (host.started() && !fs::exists(link) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!host.started() || !fs::exists(link)) {
    s.error = fmt::format("opsync-bridge-host did not make its terminal; see {}", s.host_log.string());
    return s;
  }

  {
    std::ofstream toml(o.dir / "station.toml");
    toml << "[station]\ndb = \"station.db\"\nsession = \"bridge-host\"\n\n"
         << "[clock]\nmode = \"sim\"\nsim_clock_file = \"clock.json\"\n\n"
         << "[status]\nhttp = \"\"\nline = false\n\n"
         << "[[source]]\nname = \"bridge\"\ndriver = \"bridge\"\n"
         << fmt::format("address = \"serial://{}?baud=115200\"\n", link.string())
         << "scan_start_input = 0\nscan_end_input = 1\ndetector_frame_input = 2\n";
    for (const std::string& line : o.source_keys) toml << line << "\n";
  }
  Process daemon({o.daemon_binary, "--config", (o.dir / "station.toml").string(), "--duration-s",
                  fmt::format("{}", o.seconds)},
                 s.daemon_log.string());
  if (!daemon.started()) {
    s.error = "opsyncd did not start";
    return s;
  }
  if (o.done) {
    const auto limit = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000));
    int ended = -1;  // opsyncd's status if it ended by itself (at its --duration-s, or failing)
    while (std::chrono::steady_clock::now() < limit && (ended = daemon.wait(std::chrono::milliseconds(0))) == -1 &&
           !o.done()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    s.daemon_rc = ended != -1 ? ended : daemon.stop(std::chrono::seconds(30));
  } else {
    s.daemon_rc = daemon.wait(std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000) + 30'000));
  }
  s.host_rc = host.stop(std::chrono::seconds(5));
  return s;
}

}  // namespace opsync::test
