// A crash is visible in the record: opsyncd recording `opsync sim` is killed with -9 and
// restarted; the resumed session must hold, per source, a `gap` from its last data before the
// kill to its first data after the restart, one `unclean_stop` event, and `opsync info` must
// count those gaps.
#include <csignal>
#include <gtest/gtest.h>
#include <map>
#include <regex>

#include "opsyncd_harness.h"
#include "store/reader.h"

namespace opsync::runtime {
namespace {

using namespace test;

// Waits until every source of the daemon on `port` has delivered samples in this run.
bool wait_for_samples(uint16_t port, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const HttpReply r = get_status(port, 5s);
    if (r.status == 200) {
      const auto j = nlohmann::json::parse(r.body, nullptr, false);
      bool all = j.is_object() && !j["sources"].empty();
      if (all) {
        for (const auto& s : j["sources"]) all = all && s["samples"].get<uint64_t>() > 0;
      }
      if (all) return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// A source's last data as the store holds it: its latest sample or bytes read.
std::map<std::string, int64_t> last_data_by_source(const StationDir& dir) {
  std::map<std::string, int64_t> out;
  store::StoreReader reader(dir.db().string());
  const auto s = reader.find_session("s1");
  if (!s) return out;
  for (const auto& src : reader.sources(s->id)) {
    int64_t last = 0;
    for (const auto& ch : reader.channels(src.id)) {
      const auto st = reader.channel_stats(ch.id);
      if (st.n_samples > 0) last = std::max(last, st.last_t_ns);
    }
    reader.for_each_capture(src.id, [&](const records::Capture& c) {
      if (c.kind == records::CaptureKind::kIn) last = std::max(last, c.t_ns);
      return true;
    });
    out[src.name] = last;
  }
  return out;
}

TEST(OpsyncdResume, KillNineThenRestartRecordsEachOutageAsAGap) {
  // 60 x: slow enough that a loaded machine does not read as instrument stalls; the scenario
  // (5 h simulated) outlasts the test, which stops the simulator itself.
  constexpr double kSpeed = 60;
  StationDir dir;
  Process sim({OPSYNC_CLI_BINARY, "sim", "--speed", "60", "--c-rate", "0.2", "--lead-s", "60", "--session", "s1",
               "--duration-s", "200", "--out", dir.path().string(), "--quiet"},
              dir.log("sim").string());
  ASSERT_TRUE(sim.started());
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!fs::exists(dir.config()) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(fs::exists(dir.config())) << slurp(dir.log("sim"));

  Process first = start_daemon(dir, "first");
  uint16_t port = wait_for_endpoint(dir, first.pid());
  ASSERT_NE(port, 0) << slurp(dir.log("first"));
  ASSERT_TRUE(wait_for_samples(port, 60s)) << slurp(dir.log("first"));
  kill(first.pid(), SIGKILL);
  ASSERT_EQ(first.wait(10s), 128 + SIGKILL);
  const auto last_before = last_data_by_source(dir);
  ASSERT_EQ(last_before.size(), 3u);

  // A second of wall time without a daemon: 60 simulated seconds.
  std::this_thread::sleep_for(1s);
  Process second = start_daemon(dir, "second");
  port = wait_for_endpoint(dir, second.pid());
  ASSERT_NE(port, 0) << slurp(dir.log("second"));
  ASSERT_TRUE(wait_for_samples(port, 60s)) << slurp(dir.log("second"));
  ASSERT_EQ(second.stop(10s), 0) << slurp(dir.log("second"));
  sim.stop(5s);

  store::StoreReader reader(dir.db().string());
  const auto session = reader.find_session("s1");
  ASSERT_TRUE(session);
  EXPECT_NE(session->ended_ns, 0);
  const auto events = reader.events(session->id);
  size_t unclean = 0;
  int64_t latest_before = 0;
  for (const auto& [name, t] : last_before) latest_before = std::max(latest_before, t);
  for (const auto& e : events) {
    if (e.kind != "unclean_stop") continue;
    ++unclean;
    EXPECT_GE(e.t_ns, latest_before) << e.detail;
    EXPECT_NE(e.detail.find("ended without a stop"), std::string::npos) << e.detail;
  }
  EXPECT_EQ(unclean, 1u);
  // Per source, one gap for the outage (a loaded machine may add others, from stalls).
  std::map<std::string, double> outage_s;
  for (const auto& src : reader.sources(session->id)) {
    size_t gaps = 0;
    for (const auto& e : events) {
      if (e.source_id != src.id || e.kind != "gap" || e.detail.find("opsyncd was not running") == std::string::npos) {
        continue;
      }
      ++gaps;
      EXPECT_EQ(e.t_ns, last_before.at(src.name)) << src.name << ": the gap must start at the last data before the kill";
      outage_s[src.name] = std::atof(e.detail.c_str());
      EXPECT_GT(outage_s[src.name], 0.9 * kSpeed) << src.name << ": " << e.detail;
    }
    EXPECT_EQ(gaps, 1u) << src.name;
  }

  // `opsync info` counts them, with their length.
  const CommandRun info = run_command(dir, std::string(OPSYNC_CLI_BINARY) + " info --db " + dir.db().string() + " s1");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const std::regex gaps_line(R"(source '(\w+)'[^\n]*\n(?:[^\n]*\n)*?  [0-9]+ samples over [^;]*; ([0-9]+) gaps \(([0-9.]+) s\))");
  size_t sources_seen = 0;
  for (auto it = std::sregex_iterator(info.out.begin(), info.out.end(), gaps_line); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1];
    ++sources_seen;
    EXPECT_GE(std::stoi((*it)[2]), 1) << name << "\n" << info.out;
    EXPECT_GE(std::stod((*it)[3]) + 0.1, outage_s[name]) << name << "\n" << info.out;
  }
  EXPECT_EQ(sources_seen, 3u) << info.out;
}

}  // namespace
}  // namespace opsync::runtime
