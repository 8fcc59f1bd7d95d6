// opsyncd's start against the real binary: one daemon per database (a second one refuses and
// touches nothing; a killed one never blocks the next), and a configuration or a place that
// cannot work is refused before anything is created, with the file, line and key.
#include <algorithm>
#include <csignal>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "opsyncd_harness.h"
#include "store/reader.h"

namespace opsync::runtime {
namespace {

using namespace test;

// Runs opsyncd to its end (it is expected to refuse quickly).
CommandRun run_daemon(const StationDir& dir, const std::string& extra = "") {
  return run_command(dir, std::string(OPSYNCD_BINARY) + " --config " + dir.config().string() + " " + extra, 60);
}

// The folder's file names, sorted, for "nothing was created".
std::vector<std::string> listing(const StationDir& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

size_t count_kind(const StationDir& dir, const std::string& kind) {
  store::StoreReader reader(dir.db().string());
  const auto s = reader.find_session("s1");
  size_t n = 0;
  if (s) {
    for (const auto& e : reader.events(s->id)) n += e.kind == kind;
  }
  return n;
}

TEST(OpsyncdStart, SecondDaemonRefusesNamingTheFirstAndTouchesNothing) {
  StationDir dir;
  dir.write_config(station_toml("127.0.0.1:0", unreachable_source()));
  Process first = start_daemon(dir, "first");
  const uint16_t port = wait_for_endpoint(dir, first.pid());
  ASSERT_NE(port, 0) << slurp(dir.log("first"));
  const std::string runtime_before = slurp(dir.runtime());

  const CommandRun second = run_daemon(dir);
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_NE(second.err.find("another opsyncd already records into"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(first.pid())), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << second.err;
  EXPECT_EQ(slurp(dir.runtime()), runtime_before) << "the second daemon rewrote the runtime file";
  EXPECT_EQ(get_status(port).status, 200) << "the first daemon no longer answers";

  // The first one is killed without a chance to clean up: its lock goes with it.
  kill(first.pid(), SIGKILL);
  EXPECT_EQ(first.wait(10s), 128 + SIGKILL);
  ASSERT_TRUE(fs::exists(dir.runtime()));  // left behind, as by any crash
  Process third = start_daemon(dir, "third");
  const uint16_t port3 = wait_for_endpoint(dir, third.pid());
  ASSERT_NE(port3, 0) << slurp(dir.log("third"));
  EXPECT_EQ(runtime_info(dir).value("pid", 0), third.pid());
  EXPECT_EQ(third.stop(10s), 0) << slurp(dir.log("third"));
  EXPECT_FALSE(fs::exists(dir.runtime()));

  // One start by the first daemon and one by the third: the second wrote nothing.
  EXPECT_EQ(count_kind(dir, "daemon_start"), 2u);
  EXPECT_EQ(count_kind(dir, "daemon_stop"), 1u);
}

TEST(OpsyncdStart, BadStatusAddressIsRefusedWithItsLineAndNothingIsCreated) {
  for (const char* http : {"127.0.0.1:70000", "127.0.0.1:abc", "127.0.0.300:8642", "localhost:8642",
                                  "8642"}) {
    StationDir dir;
    dir.write_config(station_toml(http, unreachable_source()));
    const auto before = listing(dir);
    const CommandRun r = run_daemon(dir);
    EXPECT_EQ(r.exit_code, 2) << http << ": " << r.err;
    EXPECT_NE(r.err.find(dir.config().string() + ":6: 'status.http'"), std::string::npos) << http << ": " << r.err;
    EXPECT_EQ(listing(dir), before) << http << ": " << r.err;
  }
}

TEST(OpsyncdStart, PortInUseIsRefusedWithItsLineAndNothingIsCreated) {
  StationDir dir;
  MuteListener taken;
  dir.write_config(station_toml("127.0.0.1:" + std::to_string(taken.port()), unreachable_source()));
  const auto before = listing(dir);
  const CommandRun r = run_daemon(dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(dir.config().string() + ":6: 'status.http'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
  EXPECT_EQ(listing(dir), before) << r.err;

  // An address this host does not have.
  dir.write_config(station_toml("192.0.2.1:0", unreachable_source()));
  const CommandRun r2 = run_daemon(dir);
  EXPECT_EQ(r2.exit_code, 2) << r2.err;
  EXPECT_NE(r2.err.find(":6: 'status.http'"), std::string::npos) << r2.err;
  EXPECT_EQ(listing(dir), before) << r2.err;
}

TEST(OpsyncdStart, FailedStartKeepsWhatACrashedRunLeft) {
  // A daemon killed with -9 leaves <db>.opsyncd; a later start that fails (port in use) must not
  // lose that record of the previous run.
  StationDir dir;
  dir.write_config(station_toml("127.0.0.1:0", unreachable_source()));
  {
    Process first = start_daemon(dir, "first");
    ASSERT_NE(wait_for_endpoint(dir, first.pid()), 0) << slurp(dir.log("first"));
    kill(first.pid(), SIGKILL);
    first.wait(10s);
  }
  const std::string left = slurp(dir.runtime());
  MuteListener taken;
  dir.write_config(station_toml("127.0.0.1:" + std::to_string(taken.port()), unreachable_source()));
  const CommandRun r = run_daemon(dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(slurp(dir.runtime()), left);
}

TEST(OpsyncdStart, MissingSerialDeviceIsSaidOnTheTerminal) {
  StationDir dir;
  dir.write_config(station_toml("127.0.0.1:0", "[[source]]\nname = \"rga\"\ndriver = \"rga\"\n"
                                               "address = \"serial:///dev/opsync-no-such-tty?baud=28800\"\n"
                                               "masses = [32, 44]\n"));
  const CommandRun r = run_daemon(dir, "--duration-s 0.5");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("source 'rga': cannot connect: serial device /dev/opsync-no-such-tty does not exist"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(count_kind(dir, "connect_failed"), 1u);  // and in the record, once
}

// Runs opsyncd as an unprivileged user when the test runs as root (root writes anywhere).
CommandRun run_daemon_unprivileged(const StationDir& dir) {
  const std::string as_user = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  return run_command(dir, as_user + OPSYNCD_BINARY + " --config " + dir.config().string(), 60);
}

TEST(OpsyncdStart, ReadOnlyFolderOrDatabaseIsNamedAsSuch) {
  StationDir dir;
  dir.write_config(station_toml("127.0.0.1:0", unreachable_source()));
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  if (geteuid() != 0) fs::permissions(dir.path(), fs::perms::owner_write, fs::perm_options::remove);
  const auto before = listing(dir);
  CommandRun r = run_daemon_unprivileged(dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("the folder " + dir.path().string() + " is read-only"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":2: 'station.db'"), std::string::npos) << r.err;
  EXPECT_EQ(listing(dir), before);

  // A writable folder, a database file that is not.
  fs::permissions(dir.path(), fs::perms::all);
  { std::ofstream(dir.db()) << ""; }
  fs::permissions(dir.db(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  r = run_daemon_unprivileged(dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("the database file " + dir.db().string() + " is read-only"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.runtime()));
}

}  // namespace
}  // namespace opsync::runtime
