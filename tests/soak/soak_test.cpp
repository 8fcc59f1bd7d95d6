// Soak: opsyncd records `opsync sim` at 600 x for OPSYNC_SOAK_S wall seconds (90 by default, the
// short run in CI; `ninja soak_long` runs 1800) with every fault kind of every instrument
// scheduled over and over, HTTP abuse running beside it the whole time (garbage, slow clients,
// connection floods, bad marks), and two kill -9 restarts. At the end:
// - SQLite's integrity_check says ok;
// - every sample the daemon reported committed (/status, polled every second) is in the file;
// - each outage is a gap: one per source per restart, and one per link that dropped;
// - opsyncd's resident memory stayed under kRssBoundMb;
// - the status endpoint answered all along (no silence longer than its own 5 s request limit
//   plus a margin) and still answers.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <thread>
#include <vector>

#include "daemon/runtime/opsyncd_harness.h"
#include "store/reader.h"
#include "store/sqlite_db.h"

namespace opsync::soak {
namespace {

using namespace test;
using Clock = std::chrono::steady_clock;

constexpr double kSpeed = 600;
constexpr double kRssBoundMb = 150;

double soak_s() {
  const char* env = std::getenv("OPSYNC_SOAK_S");
  const double s = env ? std::atof(env) : 90;
  return std::max(60.0, s);
}

// Every fault kind the simulated instruments know, in turn, one every `every_s` simulated
// seconds per instrument, from the first minute to the end.
std::vector<std::string> fault_schedule(double span_sim_s, double every_s, size_t* drops) {
  const std::map<std::string, std::vector<std::string>> kinds = {
      {"macnet", {"drop", "stall:120", "garbage:100", "tester_clock_step:2000", "tester_clock_step:-2000"}},
      {"rga", {"drop", "stall:120", "garbage:40", "filament_fail", "filament_ok"}},
      {"bridge", {"drop", "stall:120", "garbage:300", "bad_crc", "garbage", "clock_step:500000000",
                  "clock_step:-500000000", "drop_edges:5"}}};
  std::vector<std::string> args;
  *drops = 0;
  size_t turn = 0;
  for (double t = 600; t < span_sim_s; t += every_s, ++turn) {
    size_t k = 0;
    for (const auto& [name, list] : kinds) {
      // Staggered so that the three instruments are not hit in the same simulated second.
      const std::string& kind = list[turn % list.size()];
      args.push_back("--fault");
      args.push_back(name + ":" + kind + "@" + std::to_string(static_cast<int64_t>(t + 700.0 * static_cast<double>(k++))));
      *drops += kind == "drop";
    }
  }
  return args;
}

double rss_mb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return 0;
}

int64_t count_rows(const fs::path& db, const char* table) {
  store::Db d(db.string(), store::Db::Mode::ReadOnly);
  store::Stmt st(d, std::string("SELECT COUNT(*) FROM ") + table);  // table: a literal of this file
  return st.step() ? st.col_int(0) : -1;
}

// HTTP abuse, each kind in its own thread until `stop`: what a busy beamline's clients do.
struct Abuse {
  std::atomic<bool> stop{false};
  std::atomic<uint16_t> port{0};
  std::atomic<uint64_t> garbage{0}, slow{0}, floods{0}, marks_sent{0}, marks_ok{0}, refused{0};
  std::vector<std::thread> threads;

  void start() {
    threads.emplace_back([this] { garbage_loop(); });
    threads.emplace_back([this] { slow_loop(); });
    threads.emplace_back([this] { flood_loop(); });
    threads.emplace_back([this] { mark_loop(); });
  }
  ~Abuse() { join(); }
  void join() {
    stop = true;
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
  void pause(std::chrono::milliseconds d) const {
    for (auto t = Clock::now() + d; !stop && Clock::now() < t;) std::this_thread::sleep_for(20ms);
  }
  void garbage_loop() {
    std::mt19937 rng(1);
    while (!stop) {
      if (const uint16_t p = port) {
        std::string junk(std::uniform_int_distribution<size_t>(1, 20000)(rng), '\0');
        for (auto& c : junk) c = static_cast<char>(rng());
        if (rng() % 2) junk = "GET /" + junk + " HTTP/1.1\r\n\r\n";
        http_exchange(p, junk, 10s);
        ++garbage;
      }
      pause(50ms);
    }
  }
  // One byte every 300 ms: the daemon must drop it after its request limit (5 s).
  void slow_loop() {
    while (!stop) {
      if (const uint16_t p = port) {
        const int fd = connect_to(p);
        if (fd >= 0) {
          const std::string req = "POST /mark HTTP/1.1\r\nContent-Length: 1000\r\n\r\nslow";
          for (size_t i = 0; i < req.size() && !stop; ++i) {
            if (send(fd, &req[i], 1, MSG_NOSIGNAL) != 1) break;
            std::this_thread::sleep_for(300ms);
          }
          close(fd);
          ++slow;
        }
      }
      pause(100ms);
    }
  }
  // 40 connections at once, held a second, then closed: over the cap of 16.
  void flood_loop() {
    while (!stop) {
      if (const uint16_t p = port) {
        std::vector<int> fds;
        for (int i = 0; i < 40; ++i) {
          const int fd = connect_to(p);
          if (fd >= 0) fds.push_back(fd);
        }
        pause(1000ms);
        for (int fd : fds) close(fd);
        ++floods;
      }
      pause(2000ms);
    }
  }
  // Marks that are not UTF-8, empty, oversized, and a good one now and then.
  void mark_loop() {
    const std::vector<std::string> bodies = {"beam on \xB5" "A", "", std::string(100 * 1024, 'x'), "cell \xE2\x82",
                                             "\xFF\xFE\x00\x01", "scan 12 dense", "\r\n"};
    size_t i = 0;
    while (!stop) {
      if (const uint16_t p = port) {
        const HttpReply r = post_mark(p, bodies[i++ % bodies.size()]);
        ++marks_sent;
        if (r.status == 200) ++marks_ok;
        if (r.status == 503) ++refused;
      }
      pause(200ms);
    }
  }
};

struct RunFigures {
  int64_t samples_before = 0;   // in the file when this daemon started
  uint64_t reported = 0;        // samples_committed, as its /status last said
  double rss_max_mb = 0;
  double longest_silence_s = 0; // longest time without a /status answer, once the first came
  uint64_t status_ok = 0, status_busy = 0;
};

// Watches one daemon run until `until`: /status every second (committed count, silence) and RSS.
void watch(const StationDir& dir, Process& daemon, Clock::time_point until, Abuse& abuse, RunFigures& f) {
  const uint16_t port = wait_for_endpoint(dir, daemon.pid(), 30s);
  ASSERT_NE(port, 0) << slurp(dir.log("opsyncd"));
  abuse.port = port;
  auto last_ok = Clock::now();
  while (Clock::now() < until) {
    f.rss_max_mb = std::max(f.rss_max_mb, rss_mb(daemon.pid()));
    const HttpReply r = get_status(port, 10s);
    if (r.status == 200) {
      const auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_object() && j.contains("store")) {
        f.reported = std::max(f.reported, j["store"].value("samples_committed", uint64_t{0}));
      }
      ++f.status_ok;
      last_ok = Clock::now();
    } else if (r.status == 503) {
      ++f.status_busy;  // a flood holds every slot for a moment: an answer, not silence
      last_ok = Clock::now();
    }
    f.longest_silence_s = std::max(f.longest_silence_s, std::chrono::duration<double>(Clock::now() - last_ok).count());
    std::this_thread::sleep_for(1s);
  }
  abuse.port = 0;
}

TEST(Soak, FaultsAbuseAndKillNineCostNothingButTheirGaps) {
  const double wall_s = soak_s();
  const double span_sim_s = (wall_s + 120) * kSpeed;
  StationDir dir;
  size_t drops_scheduled = 0;
  // The charge spread over the soak where speed allows (C/100 at the slowest), with scans.
  const double c_rate = std::max(0.01, 3600.0 / (wall_s * kSpeed));
  std::vector<std::string> sim_args = {OPSYNC_CLI_BINARY, "sim", "--speed", "600", "--c-rate", std::to_string(c_rate),
                                       "--lead-s", "60", "--session", "s1", "--duration-s",
                                       std::to_string(static_cast<int>(wall_s + 60)), "--out", dir.path().string()};
  const auto faults = fault_schedule(span_sim_s, 3000, &drops_scheduled);
  sim_args.insert(sim_args.end(), faults.begin(), faults.end());
  Process sim(sim_args, dir.log("sim").string());
  ASSERT_TRUE(sim.started());
  for (auto t = Clock::now() + 20s; !fs::exists(dir.config()) && Clock::now() < t;) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(fs::exists(dir.config())) << slurp(dir.log("sim"));

  Abuse abuse;
  abuse.start();
  const auto t0 = Clock::now();
  std::vector<RunFigures> runs(3);
  for (size_t k = 0; k < runs.size(); ++k) {
    runs[k].samples_before = k == 0 ? 0 : count_rows(dir.db(), "samples");
    Process daemon = start_daemon(dir, "opsyncd");
    const auto until = t0 + std::chrono::milliseconds(static_cast<int64_t>(wall_s * 1000 * (k + 1) / 3));
    watch(dir, daemon, until, abuse, runs[k]);
    if (::testing::Test::HasFatalFailure()) {
      abuse.join();
      return;
    }
    if (k + 1 < runs.size()) {
      kill(daemon.pid(), SIGKILL);
      ASSERT_EQ(daemon.wait(10s), 128 + SIGKILL);
      // What it said was committed is in the file, crash or not.
      EXPECT_GE(count_rows(dir.db(), "samples"), runs[k].samples_before + static_cast<int64_t>(runs[k].reported))
          << "run " << k;
      std::this_thread::sleep_for(2s);  // 1200 simulated seconds without a daemon
    } else {
      // Once the abuse stops (a flood holds every slot, and a 503 is then the right answer),
      // /status must answer in full again.
      abuse.join();
      const uint16_t port = wait_for_endpoint(dir, daemon.pid(), 1s);
      // (The daemon may still be closing the abusers' last connections: a few tries, bounded.)
      int status = 0;
      for (auto t = Clock::now() + 10s; status != 200 && Clock::now() < t; std::this_thread::sleep_for(100ms)) {
        status = get_status(port).status;
      }
      EXPECT_EQ(status, 200) << "the status endpoint no longer answers";
      ASSERT_EQ(daemon.stop(30s), 0) << slurp(dir.log("opsyncd"));
      EXPECT_GE(count_rows(dir.db(), "samples"), runs[k].samples_before + static_cast<int64_t>(runs[k].reported));
    }
  }
  sim.stop(10s);

  store::Db db(dir.db().string(), store::Db::Mode::ReadOnly);
  {
    store::Stmt st(db, "PRAGMA integrity_check");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.col_text(0), "ok");
  }
  store::StoreReader reader(dir.db().string());
  const auto session = reader.find_session("s1");
  ASSERT_TRUE(session);
  EXPECT_NE(session->ended_ns, 0) << "the session was not closed by the final stop";
  const auto events = reader.events(session->id);
  std::map<std::string, size_t> kinds;
  for (const auto& e : events) ++kinds[e.kind];
  EXPECT_EQ(kinds["unclean_stop"], 2u);
  size_t disconnects = 0;
  for (const auto& src : reader.sources(session->id)) {
    size_t restart_gaps = 0, other_gaps = 0, disconnected = 0, samples = 0;
    for (const auto& e : events) {
      if (e.source_id != src.id) continue;
      if (e.kind == "gap") (e.detail.find("opsyncd was not running") != std::string::npos ? restart_gaps : other_gaps)++;
      disconnected += e.kind == "disconnected";
    }
    for (const auto& ch : reader.channels(src.id)) samples += reader.channel_stats(ch.id).n_samples;
    std::printf("source %-7s %9zu samples, %3zu disconnects, %3zu gaps after a drop or stall, %zu gaps for restarts\n",
                src.name.c_str(), samples, disconnected, other_gaps, restart_gaps);
    EXPECT_EQ(restart_gaps, 2u) << src.name;
    EXPECT_GE(disconnected, 1u) << src.name << ": no fault reached it";
    // Every lost link that came back is a gap (the last one may not have come back by the end).
    EXPECT_GE(other_gaps + 1, disconnected) << src.name;
    EXPECT_GT(samples, 0u) << src.name;
    disconnects += disconnected;
  }
  double rss_max = 0, silence_max = 0;
  uint64_t ok = 0, busy = 0;
  for (const auto& r : runs) {
    rss_max = std::max(rss_max, r.rss_max_mb);
    silence_max = std::max(silence_max, r.longest_silence_s);
    ok += r.status_ok;
    busy += r.status_busy;
  }
  std::printf("soak: %.0f s wall at x%g, %zu fault drops scheduled, %zu disconnects recorded, %zu events\n", wall_s, kSpeed,
              drops_scheduled, disconnects, events.size());
  std::printf("http abuse: %llu garbage requests, %llu slow clients, %llu floods of 40, %llu marks (%llu stored, "
              "%llu refused busy); /status polls: %llu answered, %llu busy, longest silence %.1f s\n",
              static_cast<unsigned long long>(abuse.garbage.load()), static_cast<unsigned long long>(abuse.slow.load()),
              static_cast<unsigned long long>(abuse.floods.load()), static_cast<unsigned long long>(abuse.marks_sent.load()),
              static_cast<unsigned long long>(abuse.marks_ok.load()), static_cast<unsigned long long>(abuse.refused.load()),
              static_cast<unsigned long long>(ok), static_cast<unsigned long long>(busy), silence_max);
  std::printf("opsyncd peak RSS %.1f MB (bound %.0f MB); samples in the file %lld\n", rss_max, kRssBoundMb,
              static_cast<long long>(count_rows(dir.db(), "samples")));
  EXPECT_LT(rss_max, kRssBoundMb);
  EXPECT_LT(silence_max, 15.0) << "the status endpoint stopped answering for a while";
  EXPECT_GT(abuse.marks_ok.load(), 0u);
}

}  // namespace
}  // namespace opsync::soak
