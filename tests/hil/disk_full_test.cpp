// opsyncd on a real full disk (issue 11, item 4): an 8 MB tmpfs holds the store; the test fills
// it while opsyncd records `opsync sim`. The daemon must say so on stderr at once, record a
// disk_full event once space returns, and on SIGTERM while the disk is full end within a bounded
// time with the session closed (the reserve file makes room for that). Mounting needs root (as
// in CI); elsewhere the test says why it skipped. The mount is always undone.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <sys/mount.h>

#include "common/child_process.h"
#include "store/reader.h"
#include "store/sqlite_db.h"

namespace opsync::hil {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// An 8 MB tmpfs at `dir` for the life of the object.
class SmallDisk {
 public:
  explicit SmallDisk(fs::path dir) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=8m") == 0) {
      mounted_ = true;
    } else {
      why_not_ = std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (mounted_ && ::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string why_not_;
};

// Writes `path` until the disk refuses more; returns the bytes written.
size_t fill(const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) return 0;
  std::vector<char> block(64 * 1024, 'x');
  size_t n = 0;
  for (int i = 0; i < 100'000; ++i) {  // bounded: 6 GB at most
    const size_t w = std::fwrite(block.data(), 1, block.size(), f);
    n += w;
    if (w < block.size() || std::fflush(f) != 0) break;
  }
  std::fclose(f);
  return n;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Waits until the file contains `needle`; false after `limit` (a hang, not a slow machine).
bool wait_for_text(const fs::path& p, const std::string& needle, std::chrono::seconds limit = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_text(p).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(DiskFull, DaemonSaysSoRecordsItAndStopsOnSigtermWithTheSessionClosed) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("opsync_diskfull_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path disk_dir = dir / "disk";
  SmallDisk disk(disk_dir);
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount an 8 MB tmpfs at " << disk_dir << " (" << disk.why_not()
                 << "; needs root, as in CI): the writer's disk-full logic is still tested in store_tests";
  }
  const fs::path sim_dir = dir / "sim";
  test::Process sim({OPSYNC_CLI_BINARY, "sim", "--speed", "600", "--lead-s", "60", "--out", sim_dir.string(), "--quiet"},
                    (dir / "sim.log").string());
  ASSERT_TRUE(sim.started());
  const auto start_deadline = std::chrono::steady_clock::now() + 30s;
  while (!fs::exists(sim_dir / "station.toml") && std::chrono::steady_clock::now() < start_deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(fs::exists(sim_dir / "station.toml"));
  // The store on the small disk; everything else where the simulator put it.
  const fs::path db = disk_dir / "station.db";
  {
    std::string toml = read_text(sim_dir / "station.toml");
    toml = std::regex_replace(toml, std::regex("db = \"station.db\""), "db = \"" + db.string() + "\"");
    std::ofstream(sim_dir / "station.toml") << toml;
  }
  const fs::path log = dir / "opsyncd.log";
  test::Process daemon({OPSYNCD_BINARY, "--config", (sim_dir / "station.toml").string()}, log.string());
  ASSERT_TRUE(daemon.started());
  ASSERT_TRUE(wait_for_text(log, "recording session")) << read_text(log);
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(fs::exists(db.string() + ".reserve")) << "no reserve file beside the store";

  // Full once: said on stderr at once; when space returns, said again and recorded.
  const fs::path filler = disk_dir / "filler";
  fill(filler);
  ASSERT_TRUE(wait_for_text(log, "database or disk is full")) << read_text(log);
  EXPECT_NE(read_text(log).find("records wait in memory"), std::string::npos) << read_text(log);
  fs::remove(filler);
  ASSERT_TRUE(wait_for_text(log, "opsyncd: space again")) << read_text(log);

  // Full again, and stopped while full: the stop must not wait for space.
  fill(filler);
  const size_t full_before = count(read_text(log), "database or disk is full");
  const auto full_deadline = std::chrono::steady_clock::now() + 60s;
  while (count(read_text(log), "database or disk is full") == full_before &&
         std::chrono::steady_clock::now() < full_deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GT(count(read_text(log), "database or disk is full"), full_before) << read_text(log);
  std::this_thread::sleep_for(1s);  // a backlog builds up in memory
  ::kill(daemon.pid(), SIGTERM);
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = daemon.wait(60s);
  const double took_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_NE(rc, -1) << "opsyncd did not end within 60 s of SIGTERM with the disk full:\n" << read_text(log);
  EXPECT_EQ(rc, 0) << read_text(log);
  EXPECT_LT(took_s, 20.0) << "SIGTERM to exit: runners' stop (0.5 s) + the writer's close timeout (5 s)";
  const std::string text = read_text(log);
  EXPECT_NE(text.find("session 'operando-sim' closed"), std::string::npos) << text;
  sim.stop(5s);
  fs::remove(filler);
  EXPECT_FALSE(fs::exists(db.string() + ".reserve")) << "the reserve is released at the close";

  store::StoreReader reader(db.string());
  const auto sessions = reader.sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_NE(sessions[0].ended_ns, 0) << "the session was not closed";
  size_t disk_full_events = 0, stops = 0;
  for (const auto& e : reader.events(sessions[0].id)) {
    disk_full_events += e.kind == "disk_full";
    stops += e.kind == "daemon_stop";
  }
  EXPECT_GE(disk_full_events, 1u) << "the first full disk is not recorded";
  EXPECT_EQ(stops, 1u);
  store::Db check(db.string(), store::Db::Mode::ReadOnly);
  store::Stmt st(check, "PRAGMA integrity_check");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.col_text(0), "ok");
  fmt::print("opsyncd ended {:.1f} s after SIGTERM with the disk full; its last words:\n{}\n", took_s,
             text.substr(text.size() > 600 ? text.size() - 600 : 0));
}

}  // namespace
}  // namespace opsync::hil
