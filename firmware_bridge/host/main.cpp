// opsync-bridge-host: the bridge firmware's portable core as a Linux process. The core runs
// unchanged on HostPort (simulated timer with offset and drift, scripted trigger edges, link
// jitter) and talks over a pseudo-terminal, so opsyncd's bridge driver connects to it as to the
// board: address = "serial://<link>?baud=115200". Prints the slave path as the first line of
// standard output, then runs until --duration-s or SIGINT/SIGTERM, writing the true time of every
// scripted edge to --truth.
//
// Time: the reference clock is opsyncd's (CLOCK_REALTIME at start + CLOCK_MONOTONIC since), or
// with --clock-file the simulation clock `opsync sim` publishes, so truth and daemon agree.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <poll.h>
#include <sys/prctl.h>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "clock/clock.h"
#include "core/bridge_core.h"
#include "host/edge_script.h"
#include "host/host_port.h"
#include "host/pty_link.h"
#include "host/truth_log.h"

namespace {

using namespace opsync::fw;
using namespace opsync::fw::host;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// The longest the loop sleeps: the main loop of the board spins; this keeps heartbeats and
// debounce expiry within a millisecond of their time.
constexpr int64_t kMaxSleepNs = 1'000'000;
// A link delivery (bytes due at the board's UART or at the host) is met by sleeping until this
// long before it (monotonic time) and spinning the rest: a timed wait on a busy 2-core VM ends
// 12-65 us late (1st-99th percentile, measured with the timer slack at 1 ns), which would add
// to every link delay drawn, in both directions. Costs at most this much CPU per delivery.
constexpr int64_t kSpinNs = 100'000;

// Waits until reference time until_ns or input on fd, whichever comes first; true on input.
bool wait_for_input(int fd, const opsync::clock::Clock& clock, int64_t until_ns) {
  const int64_t sleep_ns = std::max<int64_t>(0, clock.to_monotonic_duration_ns(until_ns - clock.now_ns()));
  pollfd pfd{fd, POLLIN, 0};
  timespec timeout{};
  timeout.tv_sec = sleep_ns / 1'000'000'000;
  timeout.tv_nsec = sleep_ns % 1'000'000'000;
  return ppoll(&pfd, 1, &timeout, nullptr) > 0;
}

bool input_ready(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) > 0;
}

struct Args {
  std::string link;
  uint32_t tick_hz = 168'000'000;
  uint64_t tick0 = 0;
  double offset_s = 0;
  double drift_ppm = 0;
  double jitter_us = 0;
  int64_t isr_latency_ns = 200;
  uint64_t seed = 1;
  std::string edges_file;
  std::vector<std::string> periodic;
  std::string truth;
  double duration_s = 0;
  std::string clock_file;
  std::string firmware_version = "host-" OPSYNC_FW_VERSION;
  uint32_t heartbeat_ms = 1000;
  bool quiet = false;
};

std::unique_ptr<opsync::clock::Clock> make_clock(const Args& a) {
  if (a.clock_file.empty()) return std::make_unique<opsync::clock::RealClock>();
  std::ifstream in(a.clock_file);
  if (!in) throw std::runtime_error(fmt::format("cannot read the simulation clock file {}", a.clock_file));
  try {
    const auto j = nlohmann::json::parse(in);
    return std::make_unique<opsync::clock::SimClock>(j.at("epoch_ns").get<int64_t>(), j.at("anchor_monotonic_ns").get<int64_t>(),
                                              j.at("speed").get<double>());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not a simulation clock file ({})", a.clock_file, e.what()));
  }
}

EdgeSchedule make_schedule(const Args& a, int64_t start_ns) {
  EdgeSchedule schedule;
  std::string error;
  if (!a.edges_file.empty()) {
    std::ifstream in(a.edges_file);
    if (!in) throw std::runtime_error(fmt::format("cannot read the edge file {}", a.edges_file));
    std::stringstream text;
    text << in.rdbuf();
    std::vector<ScriptedEdge> edges;
    if (!parse_edge_file(text.str(), start_ns, edges, error)) {
      throw std::runtime_error(fmt::format("{}: {}", a.edges_file, error));
    }
    schedule.add(std::move(edges));
  }
  for (const std::string& spec : a.periodic) {
    PulseTrain train;
    if (!parse_pulse_train(spec, start_ns, train, error)) throw std::runtime_error(error);
    schedule.add(train);
  }
  return schedule;
}

int run(const Args& a) {
  const std::unique_ptr<opsync::clock::Clock> clock = make_clock(a);
  const int64_t start_ns = clock->now_ns();

  TruthLog truth;
  std::string error;
  if (!a.truth.empty() && !truth.open(a.truth, error)) throw std::runtime_error(error);

  HostPortOptions po;
  po.tick.tick_hz = a.tick_hz;
  po.tick.tick0 = a.tick0;
  po.tick.offset_ns = static_cast<int64_t>(a.offset_s * 1e9);
  po.tick.drift_ppm = a.drift_ppm;
  po.tick.origin_ns = start_ns;
  po.jitter_ns = static_cast<int64_t>(a.jitter_us * 1e3);
  po.isr_latency_ns = a.isr_latency_ns;
  po.seed = a.seed;
  HostPort port(*clock, po, make_schedule(a, start_ns), [&truth](const TruthEdge& e) { truth.write(e); });

  CoreOptions co;
  co.tick_hz = a.tick_hz;
  co.firmware_version = a.firmware_version.c_str();
  co.heartbeat_period_ms = a.heartbeat_ms;
  co.tick_high_at_start = port.tick_high_at_start();
  BridgeCore core(port, co);
  port.attach(core);
  core.start();

  PtyLink pty;
  if (!pty.open(a.link, error)) throw std::runtime_error(error);
  std::printf("%s\n", pty.slave_path().c_str());
  std::fflush(stdout);
  if (!a.quiet) {
    std::fprintf(stderr,
                 "opsync-bridge-host: %s%s%s, %u Hz, offset %.3f s, drift %+.1f ppm, jitter 0..%.0f us each way\n",
                 pty.slave_path().c_str(), a.link.empty() ? "" : " <- ", a.link.c_str(), a.tick_hz, a.offset_s,
                 a.drift_ppm, a.jitter_us);
  }

  // Wake on time: Linux lets a timed wait run up to 50 us late by default (timer slack), and
  // frames leave when their link delay is due, so the slack would lengthen the device-to-host
  // leg only and bias the daemon's clock fit by half of it (kSpinNs covers the rest).
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const int64_t end_ns = a.duration_s > 0 ? start_ns + static_cast<int64_t>(a.duration_s * 1e9) : kNever;
  int64_t next_flush_ns = start_ns + 1'000'000'000;
  std::vector<uint8_t> in;
  while (g_stop == 0) {
    const int64_t now_ns = clock->now_ns();
    if (now_ns >= end_ns) break;
    // Bytes from the host are in the terminal by now_ns (this wake-up is theirs): they start
    // crossing the simulated link then.
    in.clear();
    if (!pty.read_available(&in)) throw std::runtime_error(fmt::format("reading {} failed", pty.slave_path()));
    port.from_host(in, now_ns);
    // Bytes that reached the board's UART by now_ns, while this process slept or read: the
    // board's main loop, which spins, would have handled each chunk as it arrived (t2 then, the
    // reply leaving then), so the core runs at that time, after the interrupts before it.
    for (int64_t t = port.next_rx_due_ns(); t <= now_ns; t = port.next_rx_due_ns()) {
      port.run_interrupts(t);
      port.poll_at(t);
    }
    const int64_t poll_ns = clock->now_ns();
    port.run_interrupts(poll_ns);
    port.poll_at(poll_ns);
    const std::vector<uint8_t> out = port.to_host(clock->now_ns());
    if (!out.empty()) pty.write(out);
    if (now_ns >= next_flush_ns) {
      truth.flush();
      next_flush_ns = now_ns + 1'000'000'000;
    }

    const int64_t wake_ns = std::min({port.next_event_ns(), now_ns + kMaxSleepNs, end_ns});
    if (port.next_link_event_ns() > wake_ns) {
      wait_for_input(pty.fd(), *clock, wake_ns);
    } else if (!wait_for_input(pty.fd(), *clock, wake_ns - std::llround(kSpinNs * clock->speed()))) {
      while (clock->now_ns() < wake_ns && !input_ready(pty.fd())) {
      }
    }
  }

  // Everything the core still holds goes out (frames still crossing the link too), then the
  // truth is complete.
  const int64_t now_ns = clock->now_ns();
  port.run_interrupts(now_ns);
  port.poll_at(now_ns);
  const std::vector<uint8_t> rest = port.to_host(kNever);
  if (!rest.empty()) pty.write(rest);
  port.flush_truth();
  truth.flush();
  if (!a.quiet) {
    const CoreCounters c = core.counters();
    std::fprintf(stderr,
                 "opsync-bridge-host: %.1f s; edges seen %u, dropped %u; frames rejected %u; %llu bytes in, %llu out, "
                 "%llu not taken by the terminal\n",
                 static_cast<double>(now_ns - start_ns) / 1e9, c.edges_seen, c.edges_dropped, c.frames_rejected,
                 static_cast<unsigned long long>(port.rx_bytes()), static_cast<unsigned long long>(port.tx_bytes()),
                 static_cast<unsigned long long>(pty.bytes_dropped()));
  }
  return port.detections_without_truth() == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"opsync-bridge-host: the trigger-bridge firmware core on a pseudo-terminal, with a simulated timer "
               "(offset, drift), scripted trigger edges and link jitter. Prints the terminal's path on the first "
               "line; point opsyncd at it with address = \"serial://PATH?baud=115200\"."};
  Args a;
  app.add_option("--link", a.link, "Also make this symlink to the terminal (kept up to date, removed at exit)");
  app.add_option("--tick-hz", a.tick_hz, "Nominal timer rate, as Hello reports it")
      ->capture_default_str()
      ->check(CLI::Range(1000u, 1'000'000'000u));
  app.add_option("--tick0", a.tick0, "Timer count at start, before the offset (e.g. 4294000000: wraps at once)")
      ->capture_default_str();
  app.add_option("--offset-s", a.offset_s, "Seconds the timer had counted before start (device powered on earlier)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  app.add_option("--drift-ppm", a.drift_ppm, "Timer crystal error, + = fast")
      ->capture_default_str()
      ->check(CLI::Range(-1000.0, 1000.0));
  app.add_option("--jitter-us", a.jitter_us, "Link delay per frame/chunk, each way, uniform 0..this")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--isr-latency-ns", a.isr_latency_ns, "Capture latched -> timer interrupt runs")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
  app.add_option("--seed", a.seed, "Seed of the link jitter")->capture_default_str();
  app.add_option("--edges", a.edges_file, "Edge file: lines \"t_s input rising|falling\" (t_s after start)");
  app.add_option("--periodic", a.periodic,
                 "Pulse train INPUT:PERIOD_MS[:WIDTH_MS[:START_S[:COUNT]]] (repeatable), e.g. 2:20 or 0:2000:850");
  app.add_option("--truth", a.truth, "Write the true time of every scripted edge here (CSV)");
  app.add_option("--duration-s", a.duration_s, "Stop after this long (reference time); default: until a signal");
  app.add_option("--clock-file", a.clock_file, "Follow the simulation clock in this file (opsync sim's clock.json)");
  app.add_option("--firmware-version", a.firmware_version, "Hello.firmware_version (23 characters at most are sent)")
      ->capture_default_str();
  app.add_option("--heartbeat-ms", a.heartbeat_ms, "Heartbeat period")->capture_default_str()->check(CLI::Range(10u, 60000u));
  app.add_flag("--quiet", a.quiet, "Print nothing but the terminal path and errors");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "opsync-bridge-host: %s\n", e.what());
    return 1;
  }
}
