// `opsync replay` end to end, with separate processes and bounded waits: a session recorded
// from the simulators (opsyncd against `opsync sim`, with faults) re-drives to equal records;
// opsyncd records from `opsync replay --serve` playing the golden capture log; bad input gets
// a clear message. Every process is stopped by its handle (SIGTERM, then SIGKILL).
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/wait.h>

#include "common/child_process.h"
#include "store/reader.h"
#include "store/sqlite_db.h"

namespace opsync::replay {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("opsync_replay_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs opsync to completion (at most 60 s) and collects what it printed.
CliRun opsync(const fs::path& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {OPSYNC_CLI_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const fs::path log = dir / "opsync.log";
  test::Process p(argv, log.string());
  CliRun r;
  r.exit_code = p.wait(std::chrono::seconds(60));
  if (r.exit_code == -1) p.stop(std::chrono::seconds(2));
  r.out = slurp(log);
  return r;
}

bool wait_for(const fs::path& file, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!fs::exists(file) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fs::exists(file);
}

uint64_t samples_of(store::StoreReader& r, records::SessionId session, const std::string& source,
                    const std::string& channel) {
  for (const auto& s : r.sources(session)) {
    if (s.name != source) continue;
    for (const auto& c : r.channels(s.id)) {
      if (c.name == channel) return r.channel_stats(c.id).n_samples;
    }
  }
  return 0;
}

TEST(ReplayHil, SimulatedSessionReplaysToEqualRecords) {
  const fs::path dir = fresh_dir("equal");
  {
    // 150 simulated seconds at 100 x of a fast charge with scans, a dropped link and a stall.
    test::Process sim({OPSYNC_CLI_BINARY, "sim", "--speed", "100", "--lead-s", "10", "--rest-before-s", "20",
                       "--c-rate", "1", "--scan-period-s", "30", "--scan-duration-s", "15", "--frames-per-scan", "3",
                       "--max-scans", "3", "--fault", "macnet:drop@40", "--fault", "rga:stall:20@60", "--fault",
                       "bridge:bad_crc@50", "--out", dir.string(), "--quiet"},
                      (dir / "sim.log").string());
    ASSERT_TRUE(sim.started());
    ASSERT_TRUE(wait_for(dir / "station.toml", std::chrono::seconds(10))) << slurp(dir / "sim.log");
    // Record until the faults are past (1.5 s at 100 x) and the store holds more than 50
    // cycler and RGA readings each (how long that takes depends on the machine's load; the
    // replay must be equal whatever was recorded), then stop opsyncd as an operator would.
    test::Process daemon({OPSYNCD_BINARY, "--config", (dir / "station.toml").string(), "--duration-s", "120"},
                         (dir / "opsyncd.log").string());
    ASSERT_TRUE(daemon.started());
    const auto t0 = std::chrono::steady_clock::now();
    const auto enough = [&] {
      if (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500)) return false;
      try {
        store::StoreReader reader((dir / "station.db").string());
        const auto s = reader.find_session("operando-sim");
        return s && samples_of(reader, s->id, "cycler", "voltage") > 50 &&
               samples_of(reader, s->id, "rga", "ion_current_m44") > 50;
      } catch (const std::exception&) {
        return false;  // being created
      }
    };
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(90) && !enough()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(daemon.stop(std::chrono::seconds(30)), 0) << slurp(dir / "opsyncd.log");
    sim.stop(std::chrono::seconds(5));
  }
  const std::string db = (dir / "station.db").string();
  CliRun r = opsync(dir, {"replay", "--db", db, "operando-sim", "--check", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("equal: every record of the original, and nothing else"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x real time"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" 0 sent alike"), std::string::npos) << r.out;
  {
    store::StoreReader reader(db);
    const auto orig = reader.find_session("operando-sim");
    const auto rep = reader.find_session("operando-sim-replay");
    ASSERT_TRUE(orig && rep);
    EXPECT_EQ(rep->started_ns, orig->started_ns);
    EXPECT_EQ(rep->ended_ns, orig->ended_ns);
    const uint64_t v = samples_of(reader, rep->id, "cycler", "voltage");
    EXPECT_GT(v, 50u);
    EXPECT_EQ(v, samples_of(reader, orig->id, "cycler", "voltage"));
    EXPECT_GT(samples_of(reader, rep->id, "rga", "ion_current_m44"), 50u);
    EXPECT_EQ(reader.count_scans(rep->id), reader.count_scans(orig->id));
  }
  // The same name again is refused; another name, into another file, is fine.
  r = opsync(dir, {"replay", "--db", db, "operando-sim", "--quiet"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("exists in"), std::string::npos) << r.out;
  r = opsync(dir, {"replay", "--db", db, "operando-sim", "--into", "second", "--out-db", (dir / "other.db").string(),
                   "--check", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  fs::remove_all(dir);
}

TEST(ReplayHil, OpsyncdRecordsFromAServedRecording) {
  const fs::path dir = fresh_dir("serve");
  const fs::path served = dir / "served";
  const std::string golden = std::string(OPSYNC_GOLDEN_DIR) + "/sim-faults.opcap";
  {
    // At 25 x (the 180 s recording in 7.2 s): served instruments answer on the simulated clock,
    // so at 100 x a busy machine polled them too seldom to read 100 RGA values in the
    // recording's span (75 under two busy loops).
    test::Process serve({OPSYNC_CLI_BINARY, "replay", "--serve", "--capture-log", golden, "--speed", "25", "--out",
                         served.string(), "--duration-s", "60"},
                        (dir / "serve.log").string());
    ASSERT_TRUE(serve.started());
    ASSERT_TRUE(wait_for(served / "station.toml", std::chrono::seconds(10))) << slurp(dir / "serve.log");
    // 200 simulated seconds: the whole 180 s recording (a bound on the simulated clock, which the
    // served instruments follow too).
    test::Process daemon({OPSYNCD_BINARY, "--config", (served / "station.toml").string(), "--duration-s", "8"},
                         (dir / "opsyncd.log").string());
    ASSERT_EQ(daemon.wait(std::chrono::seconds(60)), 0) << slurp(dir / "opsyncd.log");
    EXPECT_EQ(serve.stop(std::chrono::seconds(5)), 0);
  }
  const std::string log = slurp(dir / "serve.log");
  EXPECT_NE(log.find("answered from the recording"), std::string::npos) << log;
  store::StoreReader reader((served / "station.db").string());
  const auto s = reader.find_session("golden-sim-served");
  ASSERT_TRUE(s) << log;
  // How many readings fit into the recording's 180 simulated seconds depends on how often the
  // busy machine got to poll (100-500 here); that it reads the served values at all is the point.
  EXPECT_GT(samples_of(reader, s->id, "cycler", "voltage"), 20u) << log;
  EXPECT_GT(samples_of(reader, s->id, "rga", "ion_current_m32"), 20u) << log;
  // The bridge: its edges reached opsyncd, and each was either stored or explicitly held. Why not
  // "stored" alone: serve answers pings with the recorded tick stamps, so the clock fit sees the
  // recorded device clock against live request times, and a request the busy machine sent late
  // (x speed in simulated time) reads as a clock that disagrees; the driver then holds the edges
  // and says so (docs/replay.md). Nothing may vanish silently.
  size_t edges_on_link = 0;
  {
    store::Db db((served / "station.db").string(), store::Db::Mode::ReadOnly);
    store::Stmt st(db,
                   "SELECT COUNT(*) FROM captures c JOIN sources s ON s.id = c.source_id "
                   "WHERE s.name = 'bridge' AND c.direction = 'in'");
    ASSERT_TRUE(st.step());
    edges_on_link = static_cast<size_t>(st.col_int(0));
  }
  EXPECT_GT(edges_on_link, 0u) << "nothing from the served bridge reached opsyncd\n" << log;
  size_t held = 0;
  for (const auto& e : reader.events(s->id)) held += e.kind == "edges_held" || e.kind == "edges_unmapped";
  const uint64_t stored = samples_of(reader, s->id, "bridge", "trigger_edges");
  EXPECT_TRUE(stored > 0 || held > 0) << "the served bridge's edges were neither stored nor held\n" << log;
  std::printf("served bridge: %llu edges stored, %zu edges_held/edges_unmapped events, %llu scans\n",
              static_cast<unsigned long long>(stored), held,
              static_cast<unsigned long long>(reader.count_scans(s->id)));
  fs::remove_all(dir);
}

TEST(ReplayHil, BadInputGetsAClearMessage) {
  const fs::path dir = fresh_dir("bad");
  const std::string db = (dir / "st.db").string();
  CliRun r = opsync(dir, {"replay", "--db", db, "anything"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;

  // An imported session: a session with data but no captures.
  std::ofstream(dir / "cell.csv") << "time/s,Voltage(V),Current(mA)\n0,3.0,1.0\n1,3.1,1.0\n";
  r = opsync(dir, {"import", "cycler", (dir / "cell.csv").string(), "--db", db, "--session", "imported", "--start",
                   "2024-05-01T10:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = opsync(dir, {"replay", "--db", db, "imported"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("session 'imported' in " + db + " has no raw captures: nothing to replay"), std::string::npos)
      << r.out;

  r = opsync(dir, {"replay", "--db", db, "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("no session 'nope' in " + db), std::string::npos) << r.out;

  r = opsync(dir, {"replay", "--capture-log", (dir / "cell.csv").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cell.csv:1: not an opsync capture log"), std::string::npos) << r.out;

  r = opsync(dir, {"replay", "--serve", "--db", db, "imported"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("has no raw captures"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(ReplayHil, GoldenLogAgainstItsRecordsThroughTheCli) {
  const fs::path dir = fresh_dir("cli_golden");
  const std::string g = std::string(OPSYNC_GOLDEN_DIR) + "/sim-faults";
  CliRun r = opsync(dir, {"replay", "--capture-log", g + ".opcap", "--expect", g + ".chk", "--check", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("records equal to"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace opsync::replay
