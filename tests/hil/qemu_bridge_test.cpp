// Hardware-in-the-loop with the real STM32F405 firmware under QEMU (machine netduinoplus2):
//  - the firmware image speaks the protocol on its USART1 pseudo-terminal, reports the timer
//    rate it counts at, and refuses the test-only injection message;
//  - opsyncd, unchanged, records the test-injection image: edges injected over the same link
//    (proto/bridge_test.proto) go through the firmware's capture path, and every one the
//    configuration lets through must reach the session store once, in order, with the tick
//    the firmware latched for it.
// Truth: the test-injection image writes a truth log on its USART2 (QEMU's second serial port,
// a file here): for each injection the 64-bit tick at which the firmware latched it, and for
// each edge the core qualified its seq and tick. The test compares three records of the same
// edges: its own injection list, that log, and what opsyncd stored (the Edge frames in the
// raw captures, the trigger_edges samples, the scans).
// Skips (saying why) when qemu-system-arm or the cross-compiled images are absent. Each test is
// bounded (QEMU and opsyncd run under deadlines and are always stopped: SIGTERM, then SIGKILL).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <poll.h>
#include <span>
#include <sstream>
#include <string>
#include <termios.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bridge_test.pb.h"
#include "common/bridge_record.h"
#include "common/child_process.h"
#include "drivers/bridge/bridge_codec.h"
#include "daemon/drivers/bridge/fake_host.h"
#include "drivers/bridge/frame.h"
#include "store/reader.h"
#include "store/sqlite_db.h"

namespace opsync::hil {
namespace {

namespace fs = std::filesystem;
namespace pb = opsync::drivers::bridge;  // the driver's codec and the wire messages it takes in
using Clock = std::chrono::steady_clock;

constexpr uint64_t kQemuTickHz = 1'000'000'000;  // what the firmware must report under QEMU

// Why this test cannot run here, or empty.
std::string missing(const char* image) {
  const std::string qemu = OPSYNC_QEMU_ARM;
  if (qemu.empty() || !fs::exists(qemu)) return "qemu-system-arm not found (Debian package qemu-system-arm)";
  if (!std::string(OPSYNC_STM32_WHY_NOT).empty()) return std::string("STM32F405 firmware not built: ") + OPSYNC_STM32_WHY_NOT;
  if (!fs::exists(image)) return std::string("STM32F405 image missing: ") + image;
  return "";
}

int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("opsync_qemu_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// QEMU running a firmware image; USART1 on a pseudo-terminal (named in QEMU's log), USART2
// into a file when asked.
struct Qemu {
  Qemu(const fs::path& dir, const std::string& image, const std::optional<fs::path>& serial1_file)
      : log(dir / "qemu.log"), process(args(image, serial1_file), log.string()) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline && process.started()) {
      const std::string text = slurp(log);
      const auto at = text.find("/dev/pts/");
      if (at != std::string::npos) {
        const auto end = text.find_first_not_of("0123456789", at + 9);
        if (end != std::string::npos) {
          pty = text.substr(at, end - at);
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  static std::vector<std::string> args(const std::string& image, const std::optional<fs::path>& serial1_file) {
    std::vector<std::string> a = {OPSYNC_QEMU_ARM, "-M", "netduinoplus2", "-nographic", "-monitor", "none",
                                  "-kernel", image, "-serial", "pty"};
    if (serial1_file) {
      a.push_back("-serial");
      a.push_back("file:" + serial1_file->string());
    }
    return a;
  }
  fs::path log;
  test::Process process;
  std::string pty;  // /dev/pts/N, empty if QEMU did not say
};

// A file descriptor closed when the test leaves, however it leaves.
struct Fd {
  explicit Fd(int value) : fd(value) {}
  ~Fd() { close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fd;
};

std::vector<uint8_t> frame_of(const pb::Envelope& e) { return pb::encode_envelope_frame(e); }

std::vector<uint8_t> inject_frame(uint32_t id, uint32_t input, pb::EdgeKind kind) {
  opsync::bridge::test::TestEnvelope t;
  auto* inject = t.mutable_inject_edge();
  inject->set_id(id);
  inject->set_input(input);
  inject->set_edge(static_cast<uint32_t>(kind));
  const std::string payload = t.SerializeAsString();
  return pb::encode_frame(std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
}

bool write_all(int fd, const std::vector<uint8_t>& bytes) {
  return ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

// Reads from fd until `done` says so (checked after every read) or the deadline passes.
std::vector<uint8_t> read_until(int fd, Clock::time_point deadline, const std::function<bool(const std::vector<uint8_t>&)>& done) {
  std::vector<uint8_t> got;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    uint8_t buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      got.insert(got.end(), buf, buf + n);
      if (done(got)) break;
    }
  }
  return got;
}

// ---- the truth log of the test-injection image ----

std::map<std::string, std::string> fields_of(const std::string& line) {
  std::map<std::string, std::string> f;
  std::istringstream in(line);
  std::string word;
  in >> f["kind"];
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) f[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return f;
}

struct Truth {
  std::string boot;
  bool running = false;
  struct Inject {
    uint32_t id = 0;
    uint32_t input = 0;
    uint32_t edge = 0;
    uint64_t tick = 0;
    bool refused = false;
  };
  struct Edge {
    uint32_t seq = 0;
    uint32_t input = 0;
    uint32_t edge = 0;
    uint64_t tick = 0;
    bool dropped = false;
  };
  std::vector<Inject> injects;
  std::vector<Edge> edges;
  uint32_t stack_peak = 0;  // bytes, the largest the firmware reported
  size_t stalls = 0;        // StallMainLoop requests served
  std::vector<std::string> other;  // lines of no known kind (must stay empty)
};

Truth read_truth(const fs::path& path) {
  Truth t;
  std::istringstream in(slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    auto f = fields_of(line);
    if (f["kind"] == "boot") {
      t.boot = line;
    } else if (line == "running 1" || line == "running 0") {
      t.running = line == "running 1";
    } else if (f["kind"] == "inject" && f.count("id") && (f.count("tick") || line.find("refused") != std::string::npos)) {
      Truth::Inject i;
      i.id = static_cast<uint32_t>(std::stoul(f["id"]));
      i.refused = line.find("refused") != std::string::npos;
      if (!i.refused) {
        i.input = static_cast<uint32_t>(std::stoul(f["input"]));
        i.edge = static_cast<uint32_t>(std::stoul(f["edge"]));
        i.tick = std::stoull(f["tick"]);
      }
      t.injects.push_back(i);
    } else if (f["kind"] == "edge" && f.count("seq") && f.count("tick")) {
      t.edges.push_back({static_cast<uint32_t>(std::stoul(f["seq"])), static_cast<uint32_t>(std::stoul(f["input"])),
                         static_cast<uint32_t>(std::stoul(f["edge"])), std::stoull(f["tick"]), f["dropped"] == "1"});
    } else if (f["kind"] == "stalled" && f.count("ms")) {
      ++t.stalls;
    } else if (f["kind"] == "stack" && f.count("peak")) {
      t.stack_peak = std::max(t.stack_peak, static_cast<uint32_t>(std::stoul(f["peak"])));
    } else if (!line.empty()) {
      t.other.push_back(line);
    }
  }
  return t;
}

// Waits until the firmware answers on the link: a status request every 200 ms until a Status
// comes back. Bytes sent before the firmware has enabled its USART are lost, on QEMU as on the
// board, and QEMU passes nothing on until it notices the terminal's reader (within ~1 s); so a
// host must hear the device before it relies on being heard. Returns what was read.
std::vector<uint8_t> handshake(int fd, Clock::time_point deadline) {
  pb::Envelope status;
  status.mutable_status_request();
  const std::vector<uint8_t> request = frame_of(status);
  const auto has_status = [](const std::vector<uint8_t>& bytes) {
    for (const auto& e : pb::testing::decode_frames(bytes)) {
      if (e.has_status()) return true;
    }
    return false;
  };
  std::vector<uint8_t> got;
  while (Clock::now() < deadline && !has_status(got)) {
    if (!write_all(fd, request)) break;
    const std::vector<uint8_t> more =
        read_until(fd, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)), has_status);
    got.insert(got.end(), more.begin(), more.end());
  }
  return got;
}

// The test image writes its boot line once USART1 is enabled (firmware_main: port, then truth
// log): from then on no byte sent to it is lost to the boot.
bool wait_for_boot(const fs::path& truth_path, Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    if (!read_truth(truth_path).boot.empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Appends `pairs` configure frames (each with another input mask), each followed by a status
// request, then a ping with `ping_seq`; returns the last mask configured. Used for bursts larger
// than the firmware's receive ring.
uint32_t append_configure_burst(std::vector<uint8_t>& out, uint32_t pairs, uint32_t ping_seq) {
  pb::Envelope status, ping;
  status.mutable_status_request();
  ping.mutable_sync_request()->set_seq(ping_seq);
  uint32_t last_mask = 0;
  for (uint32_t i = 0; i < pairs; ++i) {
    pb::Envelope c;
    last_mask = 1u + (i % 15u);
    c.mutable_configure()->set_inputs_enabled_mask(last_mask);
    for (const auto& f : {frame_of(c), frame_of(status)}) out.insert(out.end(), f.begin(), f.end());
  }
  const std::vector<uint8_t> p = frame_of(ping);
  out.insert(out.end(), p.begin(), p.end());
  return last_mask;
}

// True when `in` holds a sync reply with `seq`.
bool has_sync_reply(const std::vector<uint8_t>& in, uint32_t seq) {
  for (const auto& e : pb::testing::decode_frames(in)) {
    if (e.has_sync_reply() && e.sync_reply().seq() == seq) return true;
  }
  return false;
}

// ---- tests ----

// The last status among the frames in `in`, if any.
std::optional<pb::Status> last_status(const std::vector<uint8_t>& in) {
  std::optional<pb::Status> found;
  for (const auto& e : pb::testing::decode_frames(in)) {
    if (e.has_status()) found = e.status();
  }
  return found;
}

TEST(QemuBridge, FirmwareImageSpeaksTheProtocolOnItsUartAndCountsAt1GHz) {
  const std::string why = missing(OPSYNC_STM32_ELF);
  if (!why.empty()) GTEST_SKIP() << why;
  const fs::path dir = fresh_dir("plain");
  Qemu qemu(dir, OPSYNC_STM32_ELF, std::nullopt);
  ASSERT_FALSE(qemu.pty.empty()) << "QEMU named no pseudo-terminal; see " << qemu.log;
  Fd link(::open(qemu.pty.c_str(), O_RDWR | O_NOCTTY));
  const int fd = link.fd;
  ASSERT_GE(fd, 0) << qemu.pty;
  termios tio{};
  tcgetattr(fd, &tio);
  cfmakeraw(&tio);
  tcsetattr(fd, TCSANOW, &tio);

  pb::Envelope reset, status, configure, start, ping;
  reset.mutable_reset_counters();
  status.mutable_status_request();
  configure.mutable_configure()->set_inputs_enabled_mask(0b0101);
  start.mutable_start();
  ping.mutable_sync_request()->set_seq(5);
  ping.mutable_sync_request()->set_t1_host_ns(123);
  std::vector<uint8_t> request;
  // ResetCounters first: a handshake request that reached the firmware while it was still
  // enabling its USART arrives cut and is rightly rejected (BAD_FRAME); from here on nothing may be.
  for (const auto& f : {frame_of(reset), frame_of(status), frame_of(configure), frame_of(start), frame_of(ping),
                        inject_frame(1, 2, pb::EDGE_KIND_RISING)}) {
    request.insert(request.end(), f.begin(), f.end());
  }
  // The protocol's own answer says the firmware is up; only then the requests under test.
  const std::vector<uint8_t> first = handshake(fd, Clock::now() + std::chrono::seconds(30));
  {
    bool status_seen = false;
    for (const auto& e : pb::testing::decode_frames(first)) status_seen |= e.has_status();
    ASSERT_TRUE(status_seen) << "the firmware never answered a status request; QEMU log " << qemu.log;
  }
  ASSERT_TRUE(write_all(fd, request));
  const auto have_all = [&first](const std::vector<uint8_t>& more) {
    bool hello = false, status_seen = false, reply = false, error = false;
    std::vector<uint8_t> bytes = first;
    bytes.insert(bytes.end(), more.begin(), more.end());
    for (const auto& e : pb::testing::decode_frames(bytes)) {
      hello |= e.has_hello();
      status_seen |= e.has_status();
      reply |= e.has_sync_reply();
      error |= e.has_error();
    }
    return hello && status_seen && reply && error;
  };
  std::vector<uint8_t> got = first;
  {
    const std::vector<uint8_t> more = read_until(fd, Clock::now() + std::chrono::seconds(30), have_all);
    got.insert(got.end(), more.begin(), more.end());
  }

  // Two more pings 1.5 s apart on the live link: the tick rate the firmware claims, against
  // the host's clock. Each returns (host time of the write, host time the reply was in): the
  // firmware's reception (t2) of each lies between the two.
  const auto ping_and_wait = [&](uint32_t seq, bool with_status) {
    ping.mutable_sync_request()->set_seq(seq);
    std::vector<uint8_t> bytes = frame_of(ping);
    if (with_status) {
      const std::vector<uint8_t> s = frame_of(status);
      bytes.insert(bytes.end(), s.begin(), s.end());
    }
    const int64_t t = realtime_ns();
    EXPECT_TRUE(write_all(fd, bytes));
    const auto answered = [seq, with_status](const std::vector<uint8_t>& in) {
      bool reply = false, status_seen = !with_status;
      for (const auto& e : pb::testing::decode_frames(in)) {
        reply |= e.has_sync_reply() && e.sync_reply().seq() == seq;
        status_seen |= e.has_status();
      }
      return reply && status_seen;
    };
    const std::vector<uint8_t> more = read_until(fd, Clock::now() + std::chrono::seconds(30), answered);
    got.insert(got.end(), more.begin(), more.end());
    return std::pair<int64_t, int64_t>{t, realtime_ns()};
  };
  const auto [t_first, t_first_answered] = ping_and_wait(6, false);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto [t_second, t_second_answered] = ping_and_wait(7, true);
  std::vector<pb::Status> statuses_before_burst;
  for (const auto& e : pb::testing::decode_frames(got)) {
    if (e.has_status()) statuses_before_burst.push_back(e.status());
  }

  // A burst much larger than the firmware's receive ring (1 KiB), in one write: 120 configure
  // frames, each with another input mask and followed by a status request (whose replies keep
  // the firmware's UART busy while bytes pour in), then ping 8. Every byte must be taken: no
  // frame rejected, no receive overrun, and the last configuration in force.
  {
    std::vector<uint8_t> burst;
    const uint32_t last_mask = append_configure_burst(burst, 120, 8);
    ASSERT_GT(burst.size(), 2048u);
    ASSERT_TRUE(write_all(fd, burst));
    const auto replied = [](const std::vector<uint8_t>& in) { return has_sync_reply(in, 8); };
    const std::vector<uint8_t> after_burst = read_until(fd, Clock::now() + std::chrono::seconds(60), replied);
    got.insert(got.end(), after_burst.begin(), after_burst.end());
    ASSERT_TRUE(replied(after_burst)) << "no reply to the ping after a " << burst.size() << "-byte burst";
    // The status after the burst: counters and configuration.
    const std::vector<uint8_t> s = frame_of(status);
    ASSERT_TRUE(write_all(fd, s));
    const auto status_after = [](const std::vector<uint8_t>& in) { return last_status(in).has_value(); };
    // Drain what the burst's status requests produced, then ask once more on a quiet link.
    std::vector<uint8_t> tail = read_until(fd, Clock::now() + std::chrono::seconds(30), status_after);
    got.insert(got.end(), tail.begin(), tail.end());
    const std::optional<pb::Status> final_status = last_status(tail);
    ASSERT_TRUE(final_status.has_value()) << "no status after the burst";
    EXPECT_EQ(final_status->config().inputs_enabled_mask(), last_mask) << "a configure frame of the burst was lost";
    EXPECT_EQ(final_status->counters().frames_rejected(), 0u) << "bytes of the burst were lost or damaged";
    EXPECT_EQ(final_status->counters().rx_overruns(), 0u) << "the firmware's UART receive overran";
    std::printf("QEMU firmware: a %zu-byte burst taken whole (frames_rejected %u, rx_overruns %u)\n", burst.size(),
                final_status->counters().frames_rejected(), final_status->counters().rx_overruns());
  }
  link.close();
  EXPECT_EQ(qemu.process.stop(std::chrono::seconds(5)), 0) << "QEMU did not end cleanly on SIGTERM";

  size_t bad = 0;
  const std::vector<pb::Envelope> frames = pb::testing::decode_frames(got, &bad);
  EXPECT_EQ(bad, 0u);
  const pb::Hello* hello = nullptr;
  std::map<uint32_t, pb::SyncReply> replies;
  std::vector<pb::Status> statuses;
  std::vector<pb::ErrorCode> errors;
  size_t edges = 0;
  for (const auto& f : frames) {
    if (f.has_hello()) hello = &f.hello();
    if (f.has_sync_reply()) replies[f.sync_reply().seq()] = f.sync_reply();
    if (f.has_status()) statuses.push_back(f.status());
    if (f.has_error()) errors.push_back(f.error().code());
    edges += f.has_edge();
  }
  ASSERT_NE(hello, nullptr) << "no Hello; QEMU log " << qemu.log;
  EXPECT_EQ(hello->protocol_version(), 1u);
  EXPECT_EQ(hello->tick_hz(), kQemuTickHz) << "under QEMU TIM2 counts at 1 GHz";
  EXPECT_EQ(hello->input_count(), 4u);
  EXPECT_EQ(hello->firmware_version().rfind("0.", 0), 0u) << hello->firmware_version();
  EXPECT_EQ(hello->firmware_version().find("inject"), std::string::npos) << "the plain image, not the test build";
  // The injection is not part of the protocol: the firmware answers it like any unknown body.
  // (A BAD_FRAME can only be a handshake request cut at boot: the counters below, reset after
  // the handshake, show that no later frame was rejected.)
  EXPECT_EQ(std::count(errors.begin(), errors.end(), pb::ERROR_CODE_UNKNOWN_MESSAGE), 1);
  for (const pb::ErrorCode e : errors) {
    EXPECT_TRUE(e == pb::ERROR_CODE_UNKNOWN_MESSAGE || e == pb::ERROR_CODE_BAD_FRAME) << e;
  }
  EXPECT_EQ(edges, 0u);
  ASSERT_EQ(replies.count(5), 1u);
  ASSERT_EQ(replies.count(6), 1u);
  ASSERT_EQ(replies.count(7), 1u);
  const pb::SyncReply& r5 = replies[5];
  EXPECT_EQ(r5.t1_host_ns(), 123);
  EXPECT_LE(r5.t2_tick(), r5.t3_tick());
  // Reception to reply on the device: microseconds on a board; under QEMU whatever the host's
  // scheduler gives the emulator (ms when busy). Bounded against a reply held back by a bug
  // (until a heartbeat, 1 s), not by how fast the machine is.
  EXPECT_LT(r5.t3_tick() - r5.t2_tick(), 500'000'000u) << "t2 -> t3 within 0.5 s";
  // Device seconds between the two receptions against the host's: each reception lies between
  // the host's write and the reply's arrival, so the device interval must fall inside
  // [write 7 - answer 6, answer 7 - write 6] (QEMU's timer runs on the host's clock), however
  // long QEMU took to deliver; a wrong tick rate (168 MHz counted as 1 GHz) is off 6-fold.
  const double device_s =
      static_cast<double>(replies[7].t2_tick() - replies[6].t2_tick()) / static_cast<double>(kQemuTickHz);
  const double shortest_s = static_cast<double>(t_second - t_first_answered) / 1e9;
  const double longest_s = static_cast<double>(t_second_answered - t_first) / 1e9;
  std::printf("QEMU firmware: %.6f s device time between two pings, host bounds [%.6f, %.6f] s\n", device_s,
              shortest_s, longest_s);
  EXPECT_GE(device_s, shortest_s - 0.001) << "the firmware's clock runs slow against the host's";
  EXPECT_LE(device_s, longest_s + 0.001) << "the firmware's clock runs fast against the host's";
  ASSERT_FALSE(statuses_before_burst.empty());
  EXPECT_TRUE(statuses_before_burst.back().running());
  EXPECT_EQ(statuses_before_burst.back().config().inputs_enabled_mask(), 0b0101u);
  EXPECT_EQ(statuses_before_burst.back().counters().frames_rejected(), 0u);
  EXPECT_EQ(statuses.back().counters().frames_rejected(), 0u);
  fs::remove_all(dir);
}

// The receive path while the main loop is busy: a burst of frames (2 KiB, twice the receive
// ring) sent while the firmware's main loop is held for 300 ms must come through whole. Before
// the receive interrupt paused on a full ring, such bytes were dropped (frames failing their
// CRC, requests lost); on a board at full link rate the same happens if the main loop ever
// falls behind by a ring's worth, and the overrun is then counted and reported.
TEST(QemuBridge, ReceivePathLosesNothingWhileTheMainLoopIsBusy) {
  const std::string why = missing(OPSYNC_STM32_INJECT_ELF);
  if (!why.empty()) GTEST_SKIP() << why;
  const fs::path dir = fresh_dir("stall");
  const fs::path truth_path = dir / "truth.log";
  Qemu qemu(dir, OPSYNC_STM32_INJECT_ELF, truth_path);
  ASSERT_FALSE(qemu.pty.empty()) << "QEMU named no pseudo-terminal; see " << qemu.log;
  ASSERT_TRUE(wait_for_boot(truth_path, Clock::now() + std::chrono::seconds(60))) << "no boot line; see " << dir;
  Fd link(::open(qemu.pty.c_str(), O_RDWR | O_NOCTTY));
  const int fd = link.fd;
  ASSERT_GE(fd, 0) << qemu.pty;
  termios tio{};
  tcgetattr(fd, &tio);
  cfmakeraw(&tio);
  tcsetattr(fd, TCSANOW, &tio);
  {
    bool up = false;
    for (const auto& e : pb::testing::decode_frames(handshake(fd, Clock::now() + std::chrono::seconds(30)))) {
      up |= e.has_status();
    }
    ASSERT_TRUE(up) << "the firmware never answered a status request; QEMU log " << qemu.log;
  }

  std::vector<uint8_t> burst;
  {
    opsync::bridge::test::TestEnvelope t;
    t.mutable_stall_main_loop()->set_ms(300);
    const std::string payload = t.SerializeAsString();
    burst = pb::encode_frame(std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  }
  pb::Envelope status;
  status.mutable_status_request();
  const uint32_t last_mask = append_configure_burst(burst, 120, 9);
  ASSERT_GT(burst.size(), 2048u);
  ASSERT_TRUE(write_all(fd, burst));
  const auto replied = [](const std::vector<uint8_t>& in) { return has_sync_reply(in, 9); };
  const std::vector<uint8_t> after = read_until(fd, Clock::now() + std::chrono::seconds(60), replied);
  EXPECT_TRUE(replied(after)) << "no reply to the ping sent after the burst: its bytes were lost";
  ASSERT_TRUE(write_all(fd, frame_of(status)));
  const auto has_status = [](const std::vector<uint8_t>& in) { return last_status(in).has_value(); };
  const std::vector<uint8_t> tail = read_until(fd, Clock::now() + std::chrono::seconds(30), has_status);
  link.close();
  EXPECT_EQ(qemu.process.stop(std::chrono::seconds(5)), 0);

  const std::optional<pb::Status> final_status = last_status(tail);
  ASSERT_TRUE(final_status.has_value()) << "no status after the burst";
  EXPECT_EQ(final_status->config().inputs_enabled_mask(), last_mask) << "configure frames of the burst were lost";
  EXPECT_EQ(final_status->counters().frames_rejected(), 0u) << "bytes of the burst were lost or damaged";
  EXPECT_EQ(final_status->counters().rx_overruns(), 0u) << "the firmware's UART receive overran";
  const Truth truth = read_truth(truth_path);
  EXPECT_EQ(truth.stalls, 1u) << "the firmware did not hold its main loop";
  EXPECT_TRUE(truth.other.empty()) << truth.other.front();
  std::printf("QEMU firmware: a %zu-byte burst during a 300 ms main-loop stall: frames_rejected %u, rx_overruns %u\n",
              burst.size(), final_status->counters().frames_rejected(), final_status->counters().rx_overruns());
  fs::remove_all(dir);
}

struct Injection {
  uint32_t id;
  uint32_t input;
  pb::EdgeKind kind;
  bool qualifies;    // the daemon's configuration (inputs 0..2, rising) lets it through
  bool burst;        // written back to back with others in one write
  int64_t write_ns;  // host CLOCK_REALTIME just before its write
};

TEST(QemuBridge, OpsyncdRecordsEveryInjectedEdgeOnceInOrderWithTheLatchedTick) {
  const std::string why = missing(OPSYNC_STM32_INJECT_ELF);
  if (!why.empty()) GTEST_SKIP() << why;
  const fs::path dir = fresh_dir("inject");
  const fs::path truth_path = dir / "truth.log";
  Qemu qemu(dir, OPSYNC_STM32_INJECT_ELF, truth_path);
  ASSERT_FALSE(qemu.pty.empty()) << "QEMU named no pseudo-terminal; see " << qemu.log;
  // opsyncd starts once the firmware has its link up (else its first frame may arrive cut and
  // be counted as rejected, which the checks below forbid).
  ASSERT_TRUE(wait_for_boot(truth_path, Clock::now() + std::chrono::seconds(60))) << "no boot line; see " << dir;

  {
    std::ofstream toml(dir / "station.toml");
    toml << "[station]\ndb = \"station.db\"\nsession = \"qemu-hil\"\n\n[clock]\nmode = \"real\"\n\n"
         << "[status]\nhttp = \"\"\nline = false\n\n"
         << "[[source]]\nname = \"bridge\"\ndriver = \"bridge\"\naddress = \"serial://" << qemu.pty
         << "?baud=115200\"\nscan_start_input = 0\nscan_end_input = 1\ndetector_frame_input = 2\n";
  }
  // opsyncd runs until the test has seen every edge stored (below) and stops it; its own
  // duration only bounds a hang.
  constexpr int kDaemonLimitSeconds = 240;  // under CTest's 300 s
  const auto t_start = Clock::now();
  test::Process daemon({OPSYNCD_BINARY, "--config", (dir / "station.toml").string(), "--duration-s",
                        std::to_string(kDaemonLimitSeconds)},
                       (dir / "opsyncd.log").string());
  ASSERT_TRUE(daemon.started());

  // opsyncd has connected, configured and started the bridge once the firmware says so.
  const auto running_deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < running_deadline && !read_truth(truth_path).running) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(read_truth(truth_path).running) << "the firmware was never started; see " << dir;
  const auto t_running = Clock::now();

  // The link as opsyncd has set it up (raw); we only write, whole frames at a time, which the
  // kernel never interleaves with opsyncd's own writes.
  Fd link(::open(qemu.pty.c_str(), O_WRONLY | O_NOCTTY));
  const int fd = link.fd;
  ASSERT_GE(fd, 0) << qemu.pty;
  termios tio{};
  ASSERT_EQ(tcgetattr(fd, &tio), 0);
  ASSERT_EQ(tio.c_oflag & OPOST, 0u) << "the link is not raw: output processing would alter frames";

  // Seven scans: start (input 0), 15 detector frames (input 2) 30 ms apart, end (input 1),
  // with decoys the configuration must filter (input 3 is disabled, falling edges are not
  // wanted); the last scan's frames are one burst of 40 in a single write. ~6 s at 1 GHz
  // crosses at least one 32-bit timer wrap (every 4.3 s).
  std::vector<Injection> plan;
  uint32_t id = 0;
  const auto inject = [&](uint32_t input, pb::EdgeKind kind, bool qualifies) {
    const int64_t t = realtime_ns();
    EXPECT_TRUE(write_all(fd, inject_frame(id, input, kind)));
    plan.push_back({id++, input, kind, qualifies, false, t});
  };
  for (int scan = 0; scan < 6; ++scan) {
    inject(0, pb::EDGE_KIND_RISING, true);
    for (int frame = 0; frame < 15; ++frame) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      inject(2, pb::EDGE_KIND_RISING, true);
      if (frame % 5 == 2) inject(frame % 2 == 0 ? 3 : 2, frame % 2 == 0 ? pb::EDGE_KIND_RISING : pb::EDGE_KIND_FALLING, false);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    inject(1, pb::EDGE_KIND_RISING, true);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  inject(0, pb::EDGE_KIND_RISING, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  {
    std::vector<uint8_t> burst;
    const int64_t t = realtime_ns();
    for (int frame = 0; frame < 40; ++frame) {
      const std::vector<uint8_t> f = inject_frame(id, 2, pb::EDGE_KIND_RISING);
      burst.insert(burst.end(), f.begin(), f.end());
      plan.push_back({id++, 2, pb::EDGE_KIND_RISING, true, true, t});
    }
    EXPECT_TRUE(write_all(fd, burst));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  inject(1, pb::EDGE_KIND_RISING, true);
  link.close();
  const double inject_s = std::chrono::duration<double>(Clock::now() - t_running).count();

  std::vector<const Injection*> expected;
  for (const auto& p : plan) {
    if (p.qualifies) expected.push_back(&p);
  }

  // opsyncd maps an edge once its clock fit has settled (10 s of pings) and holds the last ones
  // until the fit covers them (4 s): wait until the store holds as many edges as qualify (or
  // more, which the checks below report), then stop it as an operator would.
  const auto stored_deadline = Clock::now() + std::chrono::seconds(kDaemonLimitSeconds - 30);
  while (Clock::now() < stored_deadline && test::stored_trigger_edges(dir / "station.db") < expected.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const int daemon_rc = daemon.stop(std::chrono::seconds(30));
  const double daemon_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  ASSERT_EQ(daemon_rc, 0) << "opsyncd did not end cleanly on SIGTERM; see " << dir;
  EXPECT_EQ(qemu.process.stop(std::chrono::seconds(5)), 0);

  // 1. The firmware's truth: every injection latched once, in order; exactly the qualifying
  //    ones became edges, seq 0..N-1, each with the tick latched for its injection.
  const Truth truth = read_truth(truth_path);
  EXPECT_TRUE(truth.other.empty()) << truth.other.front();
  EXPECT_NE(truth.boot.find("clock=qemu tick_hz=1000000000"), std::string::npos) << truth.boot;
  ASSERT_EQ(truth.injects.size(), plan.size()) << "injections lost on the link";
  for (size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(truth.injects[i].id, plan[i].id) << "latched out of order at " << i;
    EXPECT_FALSE(truth.injects[i].refused);
    if (i > 0) {
      EXPECT_GT(truth.injects[i].tick, truth.injects[i - 1].tick);
    }
  }
  ASSERT_EQ(truth.edges.size(), expected.size()) << "the core qualified a different set of edges";
  std::map<uint32_t, uint64_t> tick_of_id;
  for (const auto& i : truth.injects) tick_of_id[i.id] = i.tick;
  for (size_t k = 0; k < expected.size(); ++k) {
    const Truth::Edge& e = truth.edges[k];
    EXPECT_EQ(e.seq, k);
    EXPECT_EQ(e.input, expected[k]->input) << "seq " << k;
    EXPECT_EQ(e.edge, static_cast<uint32_t>(expected[k]->kind)) << "seq " << k;
    EXPECT_EQ(e.tick, tick_of_id[expected[k]->id]) << "seq " << k << ": the capture path changed the latched tick";
    EXPECT_FALSE(e.dropped) << "seq " << k;
  }
  EXPECT_GT(truth.stack_peak, 0u) << "no stack report";
  EXPECT_LT(truth.stack_peak, 6144u) << "the stack came within 2 KiB of its 8 KiB";
  const uint64_t first_tick = truth.injects.front().tick;
  const uint64_t last_tick = truth.injects.back().tick;
  EXPECT_GT(last_tick >> 32, first_tick >> 32) << "the run should cross a 32-bit timer wrap";

  // 2. What opsyncd received (its raw captures): each edge once, in order, with that tick, and
  //    nothing the firmware counted as rejected or dropped.
  store::StoreReader reader((dir / "station.db").string());
  const auto sessions = reader.sessions();
  ASSERT_EQ(sessions.size(), 1u);
  const auto sources = reader.sources(sessions[0].id);
  ASSERT_EQ(sources.size(), 1u);
  const records::SourceId source_id = sources[0].id;
  std::vector<uint8_t> device_bytes;
  std::map<uint32_t, int64_t> edge_arrival_ns;  // Edge.seq -> when opsyncd read the frame's last byte
  {
    store::Db db((dir / "station.db").string(), store::Db::Mode::ReadOnly);
    store::Stmt st(db, "SELECT t_ns, bytes FROM captures WHERE source_id = ? AND direction = 'in' ORDER BY id");
    st.bind(1, static_cast<int64_t>(source_id));
    std::vector<uint8_t> pending;  // bytes after the last frame delimiter seen
    while (st.step()) {
      const int64_t t_ns = st.col_int(0);
      const std::string b = st.col_blob(1);
      device_bytes.insert(device_bytes.end(), b.begin(), b.end());
      pending.insert(pending.end(), b.begin(), b.end());
      const auto last_delimiter = std::find(pending.rbegin(), pending.rend(), uint8_t{0});
      if (last_delimiter == pending.rend()) continue;
      const auto complete_end = last_delimiter.base();
      const std::vector<uint8_t> complete(pending.begin(), complete_end);
      for (const auto& f : pb::testing::decode_frames(complete)) {
        if (f.has_edge()) edge_arrival_ns.emplace(f.edge().seq(), t_ns);
      }
      pending.erase(pending.begin(), complete_end);
    }
  }
  size_t bad = 0;
  std::vector<pb::Edge> received;
  std::optional<pb::Counters> last_counters;
  size_t device_errors = 0;
  for (const auto& f : pb::testing::decode_frames(device_bytes, &bad)) {
    if (f.has_edge()) received.push_back(f.edge());
    if (f.has_heartbeat()) last_counters = f.heartbeat().counters();
    if (f.has_error()) ++device_errors;
  }
  EXPECT_EQ(bad, 0u) << "frames from the firmware failed COBS/CRC/decode";
  EXPECT_EQ(device_errors, 0u) << "the firmware reported errors";
  ASSERT_EQ(received.size(), expected.size()) << "edges lost or duplicated between the firmware and opsyncd";
  for (size_t k = 0; k < received.size(); ++k) {
    EXPECT_EQ(received[k].seq(), k) << "out of order or duplicated";
    EXPECT_EQ(received[k].input(), expected[k]->input);
    EXPECT_EQ(received[k].edge(), expected[k]->kind);
    EXPECT_EQ(received[k].tick(), truth.edges[k].tick) << "seq " << k;
  }
  ASSERT_TRUE(last_counters.has_value()) << "no heartbeat reached opsyncd";
  EXPECT_EQ(last_counters->frames_rejected(), 0u) << "an injection interleaved with opsyncd's frames?";
  EXPECT_EQ(last_counters->edges_dropped(), 0u);
  EXPECT_EQ(last_counters->rx_overruns(), 0u) << "the firmware lost received bytes";
  EXPECT_EQ(last_counters->edges_seen(), expected.size());

  // 3. What opsyncd recorded: one trigger_edges sample per edge, in order, with the input as
  //    value; seven scans; no lost edges or sequence resets.
  std::vector<records::Sample> samples;
  for (const auto& c : reader.channels(source_id)) {
    if (c.name == "trigger_edges") samples = reader.samples(c.id);
  }
  ASSERT_EQ(samples.size(), expected.size()) << "opsyncd stored a different number of edges";
  for (size_t k = 0; k < samples.size(); ++k) {
    EXPECT_EQ(samples[k].value, static_cast<double>(expected[k]->input)) << "sample " << k;
    if (k > 0) {
      EXPECT_GT(samples[k].t_ns, samples[k - 1].t_ns) << "sample " << k;
    }
  }
  EXPECT_EQ(reader.scans(sessions[0].id).size(), 7u);
  size_t lost = 0, resets = 0, steps = 0;
  for (const auto& e : reader.events(sessions[0].id)) {
    lost += e.kind == "edges_lost" || e.kind == "edges_dropped" || e.kind == "edges_unmapped";
    resets += e.kind == "edge_seq_reset";
    steps += e.kind == "clock_step";
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(resets, 0u);

  // 4. Timing, end to end: each edge's stamp (opsyncd's clock fit applied to the latched tick)
  //    must lie where the latch can have happened: after the test wrote the injection and before
  //    opsyncd read the Edge frame that reports it. How long QEMU took in between depends on how
  //    busy the machine is (tens to hundreds of ms when saturated) and decides nothing; a wrong
  //    tick rate or a wrap counted wrongly puts a stamp seconds outside. The fit's own error (us)
  //    is allowed on both sides. The exact check is the tick, above. The delay after the write
  //    is reported.
  constexpr int64_t kFitSlackNs = 5'000'000;
  std::vector<double> late_us;
  size_t outside = 0;
  for (size_t k = 0; k < samples.size(); ++k) {
    if (!expected[k]->burst) late_us.push_back(static_cast<double>(samples[k].t_ns - expected[k]->write_ns) / 1e3);
    const auto arrival = edge_arrival_ns.find(static_cast<uint32_t>(k));
    ASSERT_NE(arrival, edge_arrival_ns.end()) << "no capture holds the Edge frame of seq " << k;
    const bool inside = samples[k].t_ns >= expected[k]->write_ns - kFitSlackNs &&
                        samples[k].t_ns <= arrival->second + kFitSlackNs;
    outside += !inside;
    EXPECT_TRUE(inside) << "seq " << k << " stamped " << samples[k].t_ns << ", written at " << expected[k]->write_ns
                        << ", reported at " << arrival->second;
  }
  ASSERT_FALSE(late_us.empty());
  double sum = 0, sq = 0, lo = late_us[0], hi = late_us[0];
  for (double v : late_us) {
    sum += v;
    sq += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double mean = sum / static_cast<double>(late_us.size());
  const double rms = std::sqrt(sq / static_cast<double>(late_us.size()));
  std::printf("QEMU HIL: %zu injected, %zu qualify, %zu received by opsyncd once and in order with the latched tick; "
              "ticks %llu..%llu (%llu timer wraps); %zu clock_step events\n",
              plan.size(), expected.size(), received.size(), static_cast<unsigned long long>(first_tick),
              static_cast<unsigned long long>(last_tick),
              static_cast<unsigned long long>((last_tick >> 32) - (first_tick >> 32)), steps);
  std::printf("QEMU HIL: stamp - host write time over %zu paced edges: mean %.0f us, RMS %.0f us, min %.0f us, "
              "max %.0f us; injecting took %.1f s, the whole run %.1f s; firmware stack peak %u bytes\n",
              late_us.size(), mean, rms, lo, hi, inject_s, daemon_s, truth.stack_peak);
  EXPECT_EQ(outside, 0u) << "edges stamped outside [written, reported]";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace opsync::hil
