// `opsync import` on inputs that must not cost memory or block: a 2 GiB sparse file behind a
// real file's header (ftruncate: no disk used), and a FIFO. The import process's peak RSS is
// read from wait4's rusage; time is bounded generously, only against hangs.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "support/fixtures.h"

extern char** environ;

namespace {

constexpr long kMaxRssKib = 200 * 1024;               // the bound the import must stay under
constexpr auto kHangLimit = std::chrono::seconds(120);  // far beyond any honest run

struct ImportRun {
  int exit_code = -1;   // -1: killed at the hang limit
  long max_rss_kib = 0;
  double seconds = 0;
  std::string err;
};

ImportRun run_import(const opsync::test::TempDir& dir, const std::string& file) {
  const std::string db = (dir.path() / "station.db").string();
  const std::string err_path = (dir.path() / "stderr.txt").string();
  std::vector<std::string> args = {OPSYNC_CLI_BINARY, "import", "cycler", file, "--db", db, "--session", "s"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ImportRun out;
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0];
    return out;
  }
  int status = 0;
  rusage usage{};
  while (true) {
    const pid_t done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() - t0 > kHangLimit) {
      kill(pid, SIGKILL);
      wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.max_rss_kib = usage.ru_maxrss;
  std::ifstream in(err_path);
  out.err.assign(std::istreambuf_iterator<char>(in), {});
  return out;
}

// The head of a real file, then holes up to 2 GiB: what a damaged copy or a stuck writer leaves.
std::string sparse_copy(const opsync::test::TempDir& dir, const std::string& fixture, size_t head_bytes) {
  std::ifstream in(opsync::test::fixture(fixture), std::ios::binary);
  std::string head(head_bytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const std::string path = (dir.path() / std::filesystem::path(fixture).filename()).string();
  std::ofstream(path, std::ios::binary) << head;
  if (::truncate(path.c_str(), 2LL << 30) != 0) ADD_FAILURE() << "cannot extend " << path;
  return path;
}

TEST(ImportResources, SparseTwoGigabyteFilesStayUnderTheMemoryBound) {
  OPSYNC_REQUIRE_FIXTURES();
  opsync::test::TempDir dir;
  struct Case {
    const char* fixture;
    size_t head;
  };
  for (const Case& c : {Case{"cycler/biologic_gcpl_pair.mpr", 1u << 20}, Case{"cycler/neware_v130.nda", 200000},
                        Case{"cycler/neware_v29.nda", 100000}, Case{"cycler/arbin_export.csv", 20000},
                        Case{"cycler/arbin_5cycles_cathode.res", 100 * 4096}}) {
    const std::string path = sparse_copy(dir, c.fixture, c.head);
    const ImportRun r = run_import(dir, path);
    EXPECT_EQ(r.exit_code, 1) << c.fixture << ": " << r.err;
    EXPECT_LT(r.max_rss_kib, kMaxRssKib) << c.fixture;
    EXPECT_FALSE(r.err.empty()) << c.fixture;
    std::filesystem::remove(path);
    RecordProperty(std::string("rss_kib_") + std::filesystem::path(c.fixture).filename().string(),
                   std::to_string(r.max_rss_kib));
    std::printf("%s (2 GiB sparse): exit %d, peak RSS %ld KiB, %.2f s\n", c.fixture, r.exit_code, r.max_rss_kib,
                r.seconds);
  }
}

TEST(ImportResources, AFifoIsRefusedNotWaitedOn) {
  opsync::test::TempDir dir;
  const std::string fifo = (dir.path() / "cycler.csv").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const ImportRun r = run_import(dir, fifo);  // nobody ever writes to it
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
}

}  // namespace
