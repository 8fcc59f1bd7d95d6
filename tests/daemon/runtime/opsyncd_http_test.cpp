// opsyncd's status endpoint under abuse, against the real binary: text that is not UTF-8,
// oversized bodies, connection floods, idle clients and file-descriptor exhaustion must cost
// the client an error reply at most, never the daemon its recording.
#include <csignal>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <vector>

#include "opsyncd_harness.h"
#include "store/reader.h"

namespace opsync::runtime {
namespace {

using namespace test;

std::vector<records::Event> events_of(const StationDir& dir) {
  store::StoreReader reader(dir.db().string());
  const auto s = reader.find_session("s1");
  return s ? reader.events(s->id) : std::vector<records::Event>{};
}

size_t count_kind(const std::vector<records::Event>& events, const std::string& kind) {
  size_t n = 0;
  for (const auto& e : events) n += e.kind == kind;
  return n;
}

TEST(OpsyncdHttp, MarkThatIsNotUtf8IsStoredRepairedAndTheDaemonGoesOn) {
  StationDir dir;
  dir.write_config(station_toml("127.0.0.1:0", unreachable_source()));
  Process daemon = start_daemon(dir);
  const uint16_t port = wait_for_endpoint(dir, daemon.pid());
  ASSERT_NE(port, 0) << slurp(dir.log("opsyncd"));

  // What `opsync mark` sends from a latin-1 terminal: "µ" is the single byte 0xB5.
  const CommandRun mark = run_command(
      dir, std::string(OPSYNC_CLI_BINARY) + " mark --db " + dir.db().string() + " \"$(printf 'beam on 3 \\265A')\"", 30);
  EXPECT_EQ(mark.exit_code, 0) << mark.err;
  EXPECT_NE(mark.out.find("not UTF-8"), std::string::npos) << mark.out;
  // Raw, with a truncated 3-byte sequence and a lone continuation byte.
  const HttpReply raw = post_mark(port, std::string("cell \xE2\x82 tapped \x80"));
  EXPECT_EQ(raw.status, 200) << raw.body;

  // Still recording: /status answers, and a clean stop closes the session.
  EXPECT_EQ(get_status(port).status, 200);
  EXPECT_EQ(daemon.stop(10s), 0) << slurp(dir.log("opsyncd"));
  const auto events = events_of(dir);
  EXPECT_EQ(count_kind(events, "daemon_stop"), 1u);
  std::vector<std::string> marks;
  for (const auto& e : events) {
    if (e.kind == "mark") marks.push_back(e.detail);
  }
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_EQ(marks[0].rfind("beam on 3 \xEF\xBF\xBD" "A", 0), 0u) << marks[0];
  EXPECT_NE(marks[0].find("1 byte sequence that was not UTF-8 replaced by U+FFFD"), std::string::npos) << marks[0];
  EXPECT_NE(marks[1].find("not UTF-8 replaced"), std::string::npos) << marks[1];
  for (const auto& m : marks) EXPECT_FALSE(nlohmann::json(m).dump().empty());  // valid UTF-8: dump would throw
}

TEST(OpsyncdHttp, BodiesAndHeadersAreCapped) {
  StationDir dir;
  dir.write_config(station_toml("127.0.0.1:0", unreachable_source()));
  Process daemon = start_daemon(dir);
  const uint16_t port = wait_for_endpoint(dir, daemon.pid());
  ASSERT_NE(port, 0) << slurp(dir.log("opsyncd"));

  EXPECT_EQ(post_mark(port, std::string(256 * 1024, 'x')).status, 413);
  EXPECT_EQ(http_exchange(port, "GET /status HTTP/1.1\r\nX-Junk: " + std::string(64 * 1024, 'j') + "\r\n\r\n").status,
            431);
  EXPECT_EQ(http_exchange(port, "\x16\x03\x01 not http at all\r\n\r\n").status, 400);
  EXPECT_EQ(get_status(port).status, 200);
  EXPECT_EQ(daemon.stop(10s), 0);
  EXPECT_EQ(count_kind(events_of(dir), "mark"), 0u);
}

TEST(OpsyncdHttp, ConnectionsAreCappedAndIdleOnesTimeOut) {
  StationDir dir;
  dir.write_config(station_toml("127.0.0.1:0", unreachable_source()));
  Process daemon = start_daemon(dir);
  const uint16_t port = wait_for_endpoint(dir, daemon.pid());
  ASSERT_NE(port, 0) << slurp(dir.log("opsyncd"));
  ASSERT_EQ(get_status(port).status, 200);
  const size_t fds_before = open_fds(daemon.pid());

  // 40 clients that connect and say nothing.
  constexpr size_t kClients = 40;
  std::vector<int> idle;
  for (size_t i = 0; i < kClients; ++i) {
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // Those over the cap are told so at once; the rest are closed by the daemon once idle too long.
  size_t busy = 0, closed_idle = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int fd : idle) {
    const auto raw = read_until_closed(fd, 60s);
    ASSERT_TRUE(raw) << "a connection was held open for over 60 s";
    if (parse_reply(*raw).status == 503) {
      ++busy;
    } else {
      EXPECT_TRUE(raw->empty()) << *raw;
      ++closed_idle;
    }
    close(fd);
  }
  const double waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%zu idle clients: %zu refused with 503, %zu closed after the idle timeout (%.1f s)\n", kClients, busy,
              closed_idle, waited_s);
  EXPECT_GE(busy, kClients - 16);
  EXPECT_GE(closed_idle, 1u);
  EXPECT_LE(open_fds(daemon.pid()), fds_before + 2);

  const HttpReply after = get_status(port);
  ASSERT_EQ(after.status, 200);
  const auto j = nlohmann::json::parse(after.body);
  EXPECT_GE(j["http"]["busy_refusals"].get<int>(), static_cast<int>(kClients - 16));
  EXPECT_EQ(daemon.stop(10s), 0);
}

TEST(OpsyncdHttp, AcceptLoopRecoversWhenFileDescriptorsRunOut) {
  StationDir dir;
  dir.write_config(station_toml("127.0.0.1:0", unreachable_source()));
  Process daemon = start_daemon(dir);
  const uint16_t port = wait_for_endpoint(dir, daemon.pid());
  ASSERT_NE(port, 0) << slurp(dir.log("opsyncd"));
  ASSERT_EQ(get_status(port).status, 200);

  // Leave the daemon a few descriptors beyond what it holds, fewer than the connection cap:
  // 80 connections then exhaust them (EMFILE in accept).
  const size_t held = open_fds(daemon.pid());
  const rlimit tight{held + 6, held + 6};
  ASSERT_EQ(prlimit(daemon.pid(), RLIMIT_NOFILE, &tight, nullptr), 0) << std::strerror(errno);
  std::vector<int> clients;
  for (int i = 0; i < 80; ++i) {
    const int fd = connect_to(port);  // completes in the kernel's backlog even when not accepted
    if (fd >= 0) clients.push_back(fd);
  }
  // Wait until the daemon has run out (its descriptor count reaches the limit).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (open_fds(daemon.pid()) < held + 6 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GE(open_fds(daemon.pid()), held + 6);
  for (int fd : clients) close(fd);

  // The connections are gone: /status must answer again, with the limit still in force.
  HttpReply reply;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until) {
    reply = get_status(port, 2s);
    if (reply.status == 200) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(reply.status, 200) << "the status endpoint never answered again; log:\n" << slurp(dir.log("opsyncd"));
  const auto j = nlohmann::json::parse(reply.body);
  EXPECT_GT(j["http"]["accept_errors"].get<int>(), 0) << reply.body;
  EXPECT_NE(slurp(dir.log("opsyncd")).find("Too many open files"), std::string::npos);
  EXPECT_EQ(daemon.stop(10s), 0);
}

}  // namespace
}  // namespace opsync::runtime
