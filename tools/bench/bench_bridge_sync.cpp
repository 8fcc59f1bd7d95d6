// The bridge's clock synchronisation against truth: opsyncd records opsync-bridge-host (the
// firmware core on a pseudo-terminal, its timer drifting by +100 and then -100 ppm, 0..1 ms of
// link jitter each way) at 1x, both on one shared reference clock; the edges stored in the
// session database are compared with the host build's truth CSV. Prints per run, after a 10 s
// warm-up: RMS, max and mean of the mapped-time error, the fitted drift against the true one, and
// where the error comes from: the one-way delays of the sync exchanges, measured against the
// truth (the daemon's t1/t4 stamps vs the device's t2/t3 ticks mapped through the true clock).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/bridge_host_session.h"
#include "common/bridge_record.h"

namespace fs = std::filesystem;
using namespace opsync::test;

namespace {

constexpr double kTickHz = 168e6;
constexpr int64_t kWarmUpNs = 10'000'000'000;

struct Options {
  double seconds = 90;
  double jitter_us = 1000;
  double sync_period_s = 0;  // 0: the driver's default
  uint64_t seed = 1;
  bool per_window = false;
  std::string dir;
};

struct Stats {
  size_t n = 0;
  double rms = 0, max_abs = 0, mean = 0;
};

Stats stats_of(const std::vector<double>& v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  double ss = 0, sum = 0;
  for (double x : v) {
    ss += x * x;
    sum += x;
    s.max_abs = std::max(s.max_abs, std::abs(x));
  }
  s.rms = std::sqrt(ss / static_cast<double>(v.size()));
  s.mean = sum / static_cast<double>(v.size());
  return s;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

std::string delay_line(const std::vector<double>& us) {
  return fmt::format("min {:6.1f}  1% {:6.1f}  10% {:6.1f}  median {:6.1f} us", quantile(us, 0), quantile(us, 0.01),
                     quantile(us, 0.1), quantile(us, 0.5));
}

// One run; returns false when something did not work (the message says what).
bool run(const Options& o, const std::string& label, double drift_ppm) {
  const fs::path dir = fs::path(o.dir) / label;
  fs::remove_all(dir);
  fs::create_directories(dir);
  BridgeHostSessionOptions so;
  so.dir = dir;
  so.host_binary = OPSYNC_BRIDGE_HOST_BINARY;
  so.daemon_binary = OPSYNCD_BINARY;
  so.seconds = o.seconds;
  // The board has been on for 2 h; a scan every 2 s (start on input 0, end on input 1 0.85 s
  // later) and detector frames at ~50 Hz on input 2, at a period that slides past the 10 Hz pings.
  so.host_args = {"--drift-ppm",  fmt::format("{}", drift_ppm), "--offset-s", "7200", "--jitter-us",
                  fmt::format("{}", o.jitter_us), "--seed", std::to_string(o.seed), "--periodic", "0:2000:10:1",
                  "--periodic", "1:2000:10:1.85", "--periodic", "2:19.7:5:1.013"};
  if (o.sync_period_s > 0) so.source_keys.push_back(fmt::format("sync_period_s = {}", o.sync_period_s));
  const BridgeHostSession s = run_bridge_host_session(so);
  if (!s.error.empty() || s.daemon_rc != 0 || s.host_rc != 0) {
    fmt::print("{:<8} failed: {} (opsyncd exit {}, host build exit {}); logs in {}\n", label, s.error, s.daemon_rc,
               s.host_rc, dir.string());
    return false;
  }

  const std::vector<TruthRow> sent = sent_edges(read_bridge_truth(s.truth));
  const BridgeRecord rec = read_bridge_record(s.db);
  const TrueTickClock truth_clock(sent);

  // Stored edge i is the i-th Edge frame on the link (the driver stores each once, in order);
  // its seq names the truth row. Edges the host build sent after opsyncd stopped are not on
  // the link and not counted.
  std::map<uint32_t, const TruthRow*> by_seq;
  for (const TruthRow& r : sent) by_seq[*r.seq] = &r;
  size_t mismatched = 0;
  const int64_t warm_ns = rec.session.started_ns + kWarmUpNs;
  std::vector<double> err_us;
  std::vector<std::pair<int64_t, double>> err_at;  // truth time, error
  for (size_t i = 0; i < rec.edges.size(); ++i) {
    const auto it = i < rec.wire_edges.size() ? by_seq.find(rec.wire_edges[i].seq) : by_seq.end();
    if (it == by_seq.end() || it->second->input != rec.edges[i].input || it->second->tick != rec.wire_edges[i].tick) {
      ++mismatched;
      continue;
    }
    const TruthRow& t = *it->second;
    if (t.t_ns < warm_ns) continue;
    const double e = static_cast<double>(rec.edges[i].t_ns - t.t_ns) / 1e3;
    err_us.push_back(e);
    err_at.emplace_back(t.t_ns, e);
  }
  const Stats e = stats_of(err_us);
  const double fitted_ppm = rec.clock ? (1e9 / kTickHz / rec.clock->rate - 1) * 1e6 : NAN;

  fmt::print("{:<8} {} edges stored of {} on the link{}; after {} s: {} edges, error RMS {:.1f} us, max {:.1f} us, "
             "mean {:+.1f} us; fitted drift {:+.2f} ppm (true {:+.0f})\n",
             label, rec.edges.size(), rec.wire_edges.size(),
             mismatched ? fmt::format(", {} not matching the truth", mismatched) : "",
             kWarmUpNs / 1'000'000'000, e.n, e.rms, e.max_abs, e.mean, fitted_ppm, drift_ppm);

  // Where it comes from: each exchange's one-way delays against the truth. A point of the fit
  // sits at the midpoint of t1 and t4, so an exchange is off by (d_out - d_back)/2; the bounds
  // estimate follows the shortest exchanges each way, so the difference of the minimum delays
  // is what biases it.
  std::vector<double> d_out, d_back, rtt;
  for (const WireExchange& x : rec.exchanges) {
    const double t2 = static_cast<double>(truth_clock.t_ns(x.t2_tick));
    const double t3 = static_cast<double>(truth_clock.t_ns(x.t3_tick));
    d_out.push_back((t2 - static_cast<double>(x.t1_ns)) / 1e3);
    d_back.push_back((static_cast<double>(x.t4_ns) - t3) / 1e3);
    rtt.push_back(d_out.back() + d_back.back());
  }
  int64_t steps = 0;
  for (const auto& ev : rec.events) steps += ev.kind == "clock_step";
  fmt::print("{:<8} {} sync exchanges, {} clock steps; delays against the truth:\n", "", rec.exchanges.size(), steps);
  fmt::print("{:<8}   host -> device {}\n", "", delay_line(d_out));
  fmt::print("{:<8}   device -> host {}\n", "", delay_line(d_back));
  fmt::print("{:<8}   round trip     {}\n", "", delay_line(rtt));
  fmt::print("{:<8}   (min back - min out) / 2 = {:+.1f} us\n", "", (quantile(d_back, 0) - quantile(d_out, 0)) / 2);
  if (rec.clock) {
    fmt::print("{:<8} last clock model: {} points, residual RMS {:.1f} us, uncertainty {:.1f} us\n", "",
               rec.clock->n_points, rec.clock->residual_rms_ns / 1e3, rec.clock->uncertainty_ns / 1e3);
  }
  if (o.per_window && !err_at.empty()) {
    const int64_t w0 = rec.session.started_ns;
    for (int64_t w = kWarmUpNs; w0 + w <= err_at.back().first; w += 10'000'000'000) {
      std::vector<double> in;
      for (const auto& [t, x] : err_at) {
        if (t >= w0 + w && t < w0 + w + 10'000'000'000) in.push_back(x);
      }
      const Stats ws = stats_of(in);
      fmt::print("{:<8}   {:3d}-{:3d} s: {:4} edges, RMS {:5.1f} us, max {:5.1f} us, mean {:+6.1f} us\n", "",
                 w / 1'000'000'000, w / 1'000'000'000 + 10, ws.n, ws.rms, ws.max_abs, ws.mean);
    }
  }
  return mismatched == 0 && rec.edges.size() == rec.wire_edges.size();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Bridge clock synchronisation against truth: opsyncd vs opsync-bridge-host at 1x, +100 and -100 ppm"};
  Options o;
  o.dir = (fs::temp_directory_path() / "opsync-bench-bridge-sync").string();
  app.add_option("-s,--seconds", o.seconds, "Seconds per run")->capture_default_str()->check(CLI::Range(20.0, 3600.0));
  app.add_option("-d,--dir", o.dir, "Working folder")->capture_default_str();
  app.add_option("--jitter-us", o.jitter_us, "Link jitter each way, uniform 0..this")->capture_default_str();
  app.add_option("--sync-period-s", o.sync_period_s, "Ping period for the driver (default: the driver's)");
  app.add_option("--seed", o.seed, "Seed of the host build's link jitter")->capture_default_str();
  app.add_flag("--per-window", o.per_window, "Also print the error per 10 s window");
  CLI11_PARSE(app, argc, argv);

  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  fmt::print("machine: {}, {} hardware threads, load average {:.2f}; {} s per run at 1x, link jitter 0..{} us each "
             "way\n",
             model, std::thread::hardware_concurrency(), load, o.seconds, o.jitter_us);
  bool ok = true;
  ok &= run(o, "+100ppm", 100);
  ok &= run(o, "-100ppm", -100);
  return ok ? 0 : 1;
}
