// The `opsync` binary end to end: help, import, sessions, info, export, and bad input that must
// leave the database untouched with a message naming file, line and column.
#include <array>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time_format.h"
#include "store/reader.h"
#include "store/transaction_writer.h"
#include "support/temp_dir.h"

namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

CliRun opsync(const opsync::test::TempDir& dir, const std::string& args) {
  const auto out = dir.path() / "stdout.txt";
  const auto err = dir.path() / "stderr.txt";
  const std::string cmd = std::string("timeout 60 ") + OPSYNC_CLI_BINARY + " " + args + " >" + out.string() + " 2>" +
                          err.string() + " </dev/null";
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

void write_file(const std::filesystem::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

TEST(OpsyncCli, HelpListsTheCommands) {
  opsync::test::TempDir dir;
  const CliRun r = opsync(dir, "--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* c : {"sessions", "info", "import", "export"}) EXPECT_NE(r.out.find(c), std::string::npos) << c;
  const CliRun imp = opsync(dir, "import --help");
  EXPECT_NE(imp.out.find("--clock-offset-s"), std::string::npos);
  EXPECT_NE(imp.out.find("charge positive"), std::string::npos);
  // It names the binary formats it reads, not only text.
  for (const char* f : {".mpr", ".nda", ".ndax", ".res", ".mpt"}) EXPECT_NE(imp.out.find(f), std::string::npos) << f;
  EXPECT_EQ(imp.out.find("delimited text file"), std::string::npos);
}

// One version, from project() in CMakeLists.txt: both programs say it.
TEST(OpsyncCli, VersionIsTheProjectVersion) {
  opsync::test::TempDir dir;
  const CliRun r = opsync(dir, "--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("opsync ") + OPSYNC_PROJECT_VERSION + "\n");
  const auto out = dir.path() / "opsyncd_version.txt";
  ASSERT_EQ(std::system((std::string(OPSYNCD_BINARY) + " --version >" + out.string() + " 2>&1").c_str()), 0);
  EXPECT_EQ(slurp(out), std::string("opsyncd ") + OPSYNC_PROJECT_VERSION + "\n");
}

TEST(OpsyncCli, ImportThenSessionsInfoAndExport) {
  opsync::test::TempDir dir;
  const auto csv = dir.path() / "cell.csv";
  write_file(csv, "time/s,Voltage(V),Current(mA)\n0,3.0,1.0\n1,3.1,1.0\n2,3.2,1.0\n");
  const std::string db = (dir.path() / "st.db").string();
  CliRun r = opsync(dir, "import cycler " + csv.string() + " --db " + db +
                          " --session run1 --start 2024-05-01T10:00:00Z --clock-offset-s 2.5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 3 rows"), std::string::npos) << r.out;

  // The clock offset is subtracted exactly: first sample at 10:00:00 - 2.5 s.
  opsync::store::StoreReader reader(db);
  const auto s = reader.find_session("run1");
  ASSERT_TRUE(s);
  const int64_t start = opsync::civil_to_ns(opsync::CivilTime{2024, 5, 1, 10, 0, 0, 0});
  EXPECT_EQ(s->started_ns, start - 2'500'000'000);
  const auto src = reader.sources(s->id);
  ASSERT_EQ(src.size(), 1u);
  bool found_current = false;
  for (const auto& ch : reader.channels(src[0].id)) {
    if (ch.name != "current") continue;
    found_current = true;
    EXPECT_EQ(ch.unit, "A");
    const auto v = reader.samples(ch.id);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_DOUBLE_EQ(v[0].value, 1e-3);  // mA -> A
    EXPECT_EQ(v[2].t_ns, start - 2'500'000'000 + 2'000'000'000);
  }
  EXPECT_TRUE(found_current);

  r = opsync(dir, "sessions --db " + db);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("run1"), std::string::npos);

  r = opsync(dir, "info --db " + db + " run1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["session"]["name"], "run1");
  EXPECT_EQ(std::stoll(j["n_samples"].get<std::string>()), 6);  // voltage + current; uint64 prints as text

  r = opsync(dir, "info --db " + db + " run1");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("constant_offset"), std::string::npos) << r.out;

  r = opsync(dir, "export --db " + db + " run1 --format csv --out " + (dir.path() / "x").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string exported = slurp(dir.path() / "x" / "cell.csv");
  EXPECT_EQ(exported.substr(0, exported.find('\n')), "t_ns,time_utc,voltage[V],current[A]");
  EXPECT_NE(exported.find("2024-05-01T09:59:57.500000000Z"), std::string::npos);
}

// A session as opsyncd leaves it while recording: started, no end.
void open_live_session(const std::string& db, const std::string& name, int64_t started_ns) {
  opsync::store::TransactionWriter tw(db);
  tw.insert().open_session(opsync::records::Session{0, name, started_ns, 0, "beamline", ""});
  tw.commit();
}

// Importing into a live session adds a source; the session's start and end stay as they are,
// and a file without absolute time is placed at the session's start (said in the assumptions).
TEST(OpsyncCli, ImportIntoALiveSessionNeverMovesIt) {
  opsync::test::TempDir dir;
  const std::string db = (dir.path() / "station.db").string();
  const int64_t t0 = opsync::civil_to_ns(opsync::CivilTime{2026, 3, 4, 8, 0, 0, 0});
  open_live_session(db, "beam", t0);

  const auto csv = dir.path() / "plain.csv";  // relative times only
  write_file(csv, "time/s,Voltage(V),Current(mA)\n0,3.0,1.0\n10,3.1,1.0\n");
  CliRun r = opsync(dir, "import cycler " + csv.string() + " --db " + db + " --session beam");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("placed from 2026-03-04T08:00:00.000000Z, the start of session 'beam'"), std::string::npos)
      << r.out;
  {
    opsync::store::StoreReader reader(db);
    const auto s = reader.find_session("beam");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->started_ns, t0);
    EXPECT_EQ(s->ended_ns, 0) << "the live session must stay open";
    const auto src = reader.sources(s->id);
    ASSERT_EQ(src.size(), 1u);
    for (const auto& ch : reader.channels(src[0].id)) {
      const auto v = reader.samples(ch.id);
      ASSERT_EQ(v.size(), 2u);
      EXPECT_EQ(v[0].t_ns, t0);
      EXPECT_EQ(v[1].t_ns, t0 + 10'000'000'000);
    }
  }

  // A file with absolute times an hour before the session: imported, the session unchanged.
  const auto early = dir.path() / "early.csv";
  write_file(early, "time/s,Voltage(V),Current(mA)\n0,3.0,1.0\n10,3.1,1.0\n");
  r = opsync(dir, "import cycler " + early.string() + " --db " + db + " --session beam --start 2026-03-04T07:00:00Z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("the session keeps its start and end"), std::string::npos) << r.out;
  opsync::store::StoreReader reader(db);
  const auto s = reader.find_session("beam");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->started_ns, t0);
  EXPECT_EQ(s->ended_ns, 0);
  EXPECT_EQ(reader.sources(s->id).size(), 2u);
}

TEST(OpsyncCli, SalvageImportsTheReadableRowsAndExitsTwo) {
  opsync::test::TempDir dir;
  const std::string db = (dir.path() / "station.db").string();
  const auto csv = dir.path() / "cut.csv";
  write_file(csv, "time/s,Voltage(V),Current(mA)\n0,3.000000,1.000000\n1,3.100000,1.000000\n2,3.200000,1.0");
  CliRun r = opsync(dir, "import cycler " + csv.string() + " --db " + db + " --session s --start 2026-01-01T00:00:00Z");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cut.csv:4"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
  r = opsync(dir, "import cycler " + csv.string() + " --db " + db +
                      " --session s --start 2026-01-01T00:00:00Z --salvage");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("left out 1 row(s)"), std::string::npos) << r.err;
  opsync::store::StoreReader reader(db);
  const auto s = reader.find_session("s");
  ASSERT_TRUE(s);
  const auto events = reader.events(s->id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "import_skipped");
  EXPECT_NE(events[0].detail.find("line 4"), std::string::npos) << events[0].detail;
}

TEST(OpsyncCli, BadNumberNamesFileLineColumnAndWritesNothing) {
  opsync::test::TempDir dir;
  const auto csv = dir.path() / "bad.csv";
  write_file(csv, "time/s,Voltage(V),Current(mA)\n0,3.0,1.0\n1,3.x1,1.0\n");
  const std::string db = (dir.path() / "st.db").string();
  const CliRun r = opsync(dir, "import cycler " + csv.string() + " --db " + db + " --session s");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.csv:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Voltage(V)"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db)) << "a failed import must not create or touch the database";
}

TEST(OpsyncCli, FailedImportLeavesAnExistingDatabaseUnchanged) {
  opsync::test::TempDir dir;
  const auto good = dir.path() / "good.csv";
  write_file(good, "time/s,Voltage(V),Current(A)\n0,3.0,0.1\n1,3.1,0.1\n");
  const auto bad = dir.path() / "bad.csv";
  write_file(bad, "time/s,Voltage(V),Current(A)\n0,3.0,0.1\n1,3.1\n");  // short row
  const std::string db = (dir.path() / "st.db").string();
  ASSERT_EQ(opsync(dir, "import cycler " + good.string() + " --db " + db + " --session s").exit_code, 0);
  const std::string before = opsync(dir, "info --db " + db + " s --json").out;
  const CliRun r = opsync(dir, "import cycler " + bad.string() + " --db " + db + " --session s");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.csv:3"), std::string::npos) << r.err;
  EXPECT_EQ(opsync(dir, "info --db " + db + " s --json").out, before);
}

TEST(OpsyncCli, UsageErrorsAreExplained) {
  opsync::test::TempDir dir;
  CliRun r = opsync(dir, "import gas x.csv --db a.db --session s");
  EXPECT_NE(r.exit_code, 0);
  r = opsync(dir, "info --db " + (dir.path() / "missing.db").string() + " s");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  r = opsync(dir, "import cycler /nonexistent.csv --db a.db --session s");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nonexistent.csv"), std::string::npos) << r.err;
  r = opsync(dir, "import cycler /etc/hostname --db a.db --session s --columns nonsense");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("ROLE=HEADER"), std::string::npos) << r.err;
}

}  // namespace

namespace {

TEST(OpsyncCli, MarkGivesUpOnADaemonThatDoesNotAnswer) {
  // A listening socket that never accepts: the connection completes in the kernel's backlog
  // and nothing ever answers, as with a stalled opsyncd.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  const std::string endpoint = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  opsync::test::TempDir dir;
  const auto t0 = std::chrono::steady_clock::now();
  const CliRun r = opsync(dir, "mark --http " + endpoint + " 'beam on'");  // the default timeout
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("opsyncd at " + endpoint + " accepted the connection but did not answer within 5 s"),
            std::string::npos)
      << r.err;
  EXPECT_LT(wall_s, 30);

  // --timeout-s shortens the wait; a port where nothing listens is a different message.
  const CliRun quick = opsync(dir, "mark --timeout-s 0.5 --http " + endpoint + " x");
  EXPECT_NE(quick.err.find("did not answer within 0.5 s"), std::string::npos) << quick.err;
  close(fd);
  const CliRun gone = opsync(dir, "mark --http " + endpoint + " x");
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("cannot reach opsyncd at " + endpoint), std::string::npos) << gone.err;
}

}  // namespace
