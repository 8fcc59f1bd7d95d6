// opsync-bridge-host as a process on its pseudo-terminal: the test opens the link as the daemon
// would, speaks the protocol with the daemon's codec, and checks the replies, the edges (seq,
// ticks past a timer wrap) against the truth file the binary writes, and a clean exit.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <poll.h>
#include <sstream>
#include <string>
#include <termios.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/child_process.h"
#include "drivers/bridge/bridge_codec.h"
#include "daemon/drivers/bridge/fake_host.h"

namespace opsync::fw {
namespace {

namespace fs = std::filesystem;
namespace pb = opsync::drivers::bridge;  // the driver's codec and the wire messages it takes in

std::vector<uint8_t> read_for(int fd, std::chrono::milliseconds how_long) {
  std::vector<uint8_t> out;
  const auto end = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    uint8_t buf[1024];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) out.insert(out.end(), buf, buf + n);
  }
  return out;
}

void write_all(int fd, const std::vector<uint8_t>& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

TEST(FwHostBinary, ServesTheProtocolOnAPseudoTerminalAndWritesTheTruth) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("opsync_fw_host_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path link = dir / "bridge.tty";
  // 20 ms pulses on input 2; the timer starts 0.5 s before its first wrap.
  opsync::test::Process proc({OPSYNC_BRIDGE_HOST_BINARY, "--link", link.string(), "--periodic", "2:20:5:0.2", "--tick0",
                      std::to_string((uint64_t{1} << 32) - 84'000'000), "--drift-ppm", "50", "--jitter-us", "200",
                      "--truth", (dir / "truth.csv").string(), "--duration-s", "3"},
                     (dir / "host.log").string());
  ASSERT_TRUE(proc.started());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!fs::exists(link) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(link)) << "no link; see " << dir / "host.log";

  const int fd = ::open(link.c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(fd, 0);
  termios tio{};
  tcgetattr(fd, &tio);
  cfmakeraw(&tio);
  tcsetattr(fd, TCSANOW, &tio);

  pb::Envelope status, configure, start, ping;
  status.mutable_status_request();
  configure.mutable_configure()->set_inputs_enabled_mask(0b0100);
  for (int i = 0; i < 4; ++i) configure.mutable_configure()->add_polarity(pb::POLARITY_RISING);
  start.mutable_start();
  ping.mutable_sync_request()->set_seq(7);
  ping.mutable_sync_request()->set_t1_host_ns(123);
  std::vector<uint8_t> request;
  for (const pb::Envelope* e : {&status, &configure, &start, &ping}) {
    const std::vector<uint8_t> f = pb::encode_envelope_frame(*e);
    request.insert(request.end(), f.begin(), f.end());
  }
  write_all(fd, request);
  const std::vector<uint8_t> got = read_for(fd, std::chrono::milliseconds(1500));
  ::close(fd);
  EXPECT_EQ(proc.wait(std::chrono::seconds(10)), 0) << "see " << dir / "host.log";

  size_t bad = 0;
  const std::vector<pb::Envelope> frames = pb::testing::decode_frames(got, &bad);
  EXPECT_EQ(bad, 0u);
  std::map<uint32_t, uint64_t> edge_tick;  // seq -> tick
  bool hello = false, status_seen = false, reply = false;
  for (const auto& f : frames) {
    if (f.has_hello()) {
      hello = true;
      EXPECT_EQ(f.hello().tick_hz(), 168'000'000u);
      EXPECT_EQ(f.hello().firmware_version().rfind("host-", 0), 0u) << f.hello().firmware_version();
    }
    if (f.has_status()) status_seen = true;
    if (f.has_sync_reply()) {
      reply = true;
      EXPECT_EQ(f.sync_reply().seq(), 7u);
      EXPECT_EQ(f.sync_reply().t1_host_ns(), 123);
      EXPECT_LE(f.sync_reply().t2_tick(), f.sync_reply().t3_tick());
    }
    if (f.has_edge()) {
      EXPECT_EQ(f.edge().input(), 2u);
      EXPECT_EQ(f.edge().edge(), pb::EDGE_KIND_RISING);
      edge_tick[f.edge().seq()] = f.edge().tick();
    }
  }
  EXPECT_TRUE(hello);
  EXPECT_TRUE(status_seen);
  EXPECT_TRUE(reply);
  // Started at once, pulses every 20 ms from 0.2 s: some 60 edges in the 1.5 s listened.
  ASSERT_GT(edge_tick.size(), 40u);
  EXPECT_EQ(edge_tick.begin()->first, 0u);
  EXPECT_EQ(edge_tick.rbegin()->first, edge_tick.size() - 1) << "a gap in seq";
  EXPECT_GT(edge_tick.rbegin()->second, uint64_t{1} << 32) << "the run should cross the first timer wrap";

  // The truth file has every sent edge with the same tick.
  std::ifstream in(dir / "truth.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "seq,t_ns,input,edge,tick,fate");
  size_t matched = 0;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string seq, t_ns, input, edge, tick, fate;
    std::getline(row, seq, ',');
    std::getline(row, t_ns, ',');
    std::getline(row, input, ',');
    std::getline(row, edge, ',');
    std::getline(row, tick, ',');
    std::getline(row, fate, ',');
    if (fate != "sent") continue;
    const auto it = edge_tick.find(static_cast<uint32_t>(std::stoul(seq)));
    if (it == edge_tick.end()) continue;  // sent after we stopped listening
    EXPECT_EQ(std::stoull(tick), it->second) << line;
    ++matched;
  }
  EXPECT_EQ(matched, edge_tick.size());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace opsync::fw
