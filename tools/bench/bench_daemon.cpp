// opsyncd under load, against `opsync sim` at 1x: CPU (share of one core) and resident memory of
// the daemon at realistic rates (cycler polled at 10 Hz, two masses read continuously, scans
// with 100 detector-frame edges) and at a stress rate (bridge edges at 10 kHz, cycler at
// 100 Hz); samples/s end to end into the store; and the bridge's trigger time error against the
// simulator's truth (1 ms link jitter each way, +100 ppm drift), after a 10 s warm-up.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "common/child_process.h"
#include "store/reader.h"

namespace fs = std::filesystem;
using opsync::test::Process;

namespace {

struct ProcSample {
  double cpu_s = 0;
  long rss_kb = 0;
  long hwm_kb = 0;
};

ProcSample sample_proc(pid_t pid) {
  ProcSample p;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  const auto close = content.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(content.substr(close + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stol(field);
      if (i == 15) stime = std::stol(field);
    }
    p.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) p.rss_kb = std::stol(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) p.hwm_kb = std::stol(line.substr(6));
  }
  return p;
}

void replace_in_file(const fs::path& path, const std::string& pattern, const std::string& with) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  text = std::regex_replace(text, std::regex(pattern), with);
  std::ofstream(path) << text;
}

struct Result {
  double cpu_pct = 0;
  double rss_mb = 0, hwm_mb = 0;
  double samples_per_s = 0;
  uint64_t edges = 0, truth_edges = 0;
  double err_rms_us = 0, err_max_us = 0;
  double drift_ppm_fit = 0;
};

Result run(const std::string& label, const fs::path& dir, double seconds, const std::vector<std::string>& sim_extra,
           double cycler_poll_s) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::string> sim_args = {OPSYNC_CLI_BINARY, "sim", "--speed", "1", "--out", dir.string(), "--quiet",
                                       "--rest-before-s", "2", "--bridge-jitter-us", "1000", "--bridge-drift-ppm",
                                       "100", "--duration-s", std::to_string(seconds + 15)};
  sim_args.insert(sim_args.end(), sim_extra.begin(), sim_extra.end());
  Process sim(sim_args, (dir / "sim.log").string());
  for (int i = 0; i < 3000 && !fs::exists(dir / "station.toml"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!fs::exists(dir / "station.toml")) throw std::runtime_error("the simulator did not start; see " + (dir / "sim.log").string());
  replace_in_file(dir / "station.toml", "poll_period_s = [0-9.]+", fmt::format("poll_period_s = {}", cycler_poll_s));
  replace_in_file(dir / "station.toml", "\\[status\\]\nhttp = \"127.0.0.1:0\"", "[status]\nhttp = \"127.0.0.1:0\"\nline = false");
  Process daemon({OPSYNCD_BINARY, "--config", (dir / "station.toml").string(), "--duration-s", std::to_string(seconds)},
                 (dir / "opsyncd.log").string());
  // CPU over the steady part: from 5 s in to the end.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const ProcSample a = sample_proc(daemon.pid());
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds - 6));
  const ProcSample b = sample_proc(daemon.pid());
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  daemon.wait(std::chrono::seconds(30));
  sim.stop(std::chrono::seconds(10));

  Result r;
  r.cpu_pct = 100.0 * (b.cpu_s - a.cpu_s) / wall;
  r.rss_mb = static_cast<double>(b.rss_kb) / 1024;
  r.hwm_mb = static_cast<double>(b.hwm_kb) / 1024;

  opsync::store::StoreReader reader((dir / "station.db").string());
  const auto session = reader.sessions().at(0);
  uint64_t samples = 0;
  std::vector<opsync::records::Sample> edges;
  for (const auto& src : reader.sources(session.id)) {
    for (const auto& ch : reader.channels(src.id)) {
      samples += reader.channel_stats(ch.id).n_samples;
      if (src.name == "bridge" && ch.name == "trigger_edges") edges = reader.samples(ch.id);
    }
    if (src.name == "bridge") {
      if (auto m = reader.clock_model(src.id)) r.drift_ppm_fit = (1e9 / 168e6 / m->rate - 1) * 1e6;
    }
  }
  r.samples_per_s = static_cast<double>(samples) / (static_cast<double>(session.ended_ns - session.started_ns) / 1e9);

  // Truth: the edges the simulator sent, in order; the recorded edges are the same sequence.
  std::ifstream truth(dir / "bridge_truth.csv");
  std::string line;
  std::getline(truth, line);
  std::vector<int64_t> truth_t;
  while (std::getline(truth, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (f.size() >= 6 && f[5] == "0") truth_t.push_back(std::stoll(f[1]));  // fate 0 = sent
  }
  r.edges = edges.size();
  r.truth_edges = truth_t.size();
  const size_t n = std::min(edges.size(), truth_t.size());
  const int64_t warm = session.started_ns + 10'000'000'000;
  double ss = 0, mx = 0;
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    if (truth_t[i] < warm) continue;
    const double e = static_cast<double>(edges[i].t_ns - truth_t[i]) / 1e3;
    ss += e * e;
    mx = std::max(mx, std::abs(e));
    ++used;
  }
  if (used) {
    r.err_rms_us = std::sqrt(ss / static_cast<double>(used));
    r.err_max_us = mx;
  }
  fmt::print("{:<10} CPU {:5.2f} % of one core, RSS {:5.1f} MB (peak {:5.1f} MB), {:8.0f} samples/s into the store\n",
             label, r.cpu_pct, r.rss_mb, r.hwm_mb, r.samples_per_s);
  // Events by kind: a flood (one event per message) would show here as thousands of one kind.
  std::map<std::string, size_t> kinds;
  for (const auto& e : reader.events(session.id)) ++kinds[e.kind];
  std::string kinds_text;
  for (const auto& [kind, count] : kinds) kinds_text += fmt::format("{}{} {}", kinds_text.empty() ? "" : ", ", kind, count);
  fmt::print("{:<10} events: {}\n", "", kinds_text);
  fmt::print("{:<10} bridge: {} edges recorded of {} sent; trigger time error after 10 s: RMS {:.1f} us, max {:.1f} us; "
             "fitted drift {:+.1f} ppm (true +100)\n",
             "", r.edges, r.truth_edges, r.err_rms_us, r.err_max_us, r.drift_ppm_fit);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"opsyncd CPU, memory, throughput and trigger timing against `opsync sim` at 1x"};
  double seconds = 60;
  std::string dir = (fs::temp_directory_path() / "opsync-bench-daemon").string();
  app.add_option("-s,--seconds", seconds, "Wall seconds per run")->capture_default_str()->check(CLI::Range(15.0, 3600.0));
  app.add_option("-d,--dir", dir, "Working folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  fmt::print("machine: {}, {} hardware threads; {} s per run at 1x\n", model, std::thread::hardware_concurrency(), seconds);
  // Realistic: cycler at 10 Hz, m/z 32 and 44 continuously, a scan every 30 s with 100 frames.
  run("realistic", fs::path(dir) / "realistic", seconds,
      {"--scan-period-s", "30", "--scan-duration-s", "10", "--frames-per-scan", "100"}, 0.1);
  // Stress: 10 kHz of detector-frame edges (9500 in each 0.95 s scan), cycler at 100 Hz.
  run("stress", fs::path(dir) / "stress", seconds,
      // Scans only for the length of the run keep the simulator's edge schedule small.
      {"--scan-period-s", "1", "--scan-duration-s", "0.95", "--frames-per-scan", "9500", "--max-scans",
       std::to_string(static_cast<int>(seconds) + 5)},
      0.01);
  return 0;
}
