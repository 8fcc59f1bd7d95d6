// `opsync sim`: builds the scenario, starts every simulated instrument of the driver table on a
// shared simulation clock (today the MacNet cycler on two TCP ports, the SRS RGA on a
// pseudo-terminal and TCP with login, the trigger bridge on a pseudo-terminal with its own
// drifting clock and link jitter), writes the clock file, the scenario's truth, the per-scan
// strain as a reconstruction would deliver it, and a station.toml for opsyncd pointing at all of
// it; then serves until the scenario ends.
// Faults: --fault NAME:KIND@T (T in simulated seconds from the scenario start) or lines
// "NAME KIND" on standard input.
#include "sim/sim_command.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/os.h>
#include <fstream>
#include <map>
#include <unistd.h>

#include "core/time_format.h"
#include "drivers/driver_table.h"
#include "runtime/sim_clock_file.h"
#include "sim/scenario.h"
#include "sim/sim_server.h"

namespace opsync::sim {
namespace {

namespace asio = boost::asio;

struct SimArgs {
  std::string out_dir = "out/sim";
  double speed = 1.0;
  bool gitt = false;
  ScenarioParams scenario;  // the scenario's knobs the command exposes are bound straight to it
  double duration_s = 0;  // wall; 0 = until the scenario ends
  drivers::SimKnobValues knobs;  // the instruments' own options (their rows' sim_knobs)
  std::vector<std::string> faults;
  double lead_s = 0;  // simulated seconds before the scenario's t = 0 (lets the daemon connect first)
  bool quiet = false;
  std::string session = "operando-sim";
};

struct ScheduledFault {
  std::string endpoint;
  std::string kind;
  double at_s = 0;
};

ScheduledFault parse_fault(const std::string& spec) {
  const auto colon = spec.find(':');
  const auto at = spec.rfind('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon) {
    throw std::runtime_error(fmt::format("--fault '{}': expected NAME:KIND@SECONDS, e.g. rga:drop@3600", spec));
  }
  const std::string at_text = spec.substr(at + 1);
  char* end = nullptr;
  const double at_s = std::strtod(at_text.c_str(), &end);
  if (at_text.empty() || end != at_text.c_str() + at_text.size() || !std::isfinite(at_s) || at_s < 0) {
    throw std::runtime_error(
        fmt::format("--fault '{}': '{}' is not a time in simulated seconds from the start, e.g. rga:drop@3600", spec,
                    at_text));
  }
  return ScheduledFault{spec.substr(0, colon), spec.substr(colon + 1, at - colon - 1), at_s};
}

void write_strain_csv(const std::string& path, const Scenario& sc) {
  auto out = fmt::output_file(path);
  out.print("scan,start,end,strain\n");
  for (const ScanTruth& s : sc.scans()) {
    out.print("{},{},{},{:.9g}\n", s.number, format_iso_utc(s.start_ns, 9), format_iso_utc(s.end_ns, 9), s.strain);
  }
}

// The scenario as the simulated instruments see it.
class ScenarioWorld final : public drivers::SimWorld {
 public:
  explicit ScenarioWorld(const Scenario& scenario) : sc_(scenario) {}
  int64_t start_ns() const override { return sc_.params().start_ns; }
  drivers::CellState cell(int64_t t_ns) const override {
    const CellState c = sc_.cell(t_ns);
    drivers::CellState m;
    m.voltage_v = c.voltage_v;
    m.current_a = c.current_a;
    m.capacity_ah = c.capacity_ah;
    m.energy_wh = c.energy_wh;
    m.cycle = c.cycle;
    m.step = c.step;
    m.test_time_s = c.test_time_s;
    m.step_time_s = c.step_time_s;
    m.rf1 = c.rf1;
    m.rf2 = c.rf2;
    m.stat = c.stat;
    return m;
  }
  double ion_current_a(int mass, int64_t t_ns) const override { return sc_.ion_current_a(mass, t_ns); }
  std::vector<drivers::TriggerEdgeTruth> trigger_edges() const override {
    std::vector<drivers::TriggerEdgeTruth> out;
    out.reserve(sc_.edges().size());
    for (const TriggerEdge& e : sc_.edges()) out.push_back({e.t_ns, e.input, e.rising});
    return out;
  }
  double transport_delay_s() const override { return sc_.params().transport_delay_s; }

 private:
  const Scenario& sc_;
};

void write_station_toml(const std::string& path, const std::string& out_dir, const SimArgs& a,
                        const std::vector<drivers::SimInstrument>& instruments,
                        const std::map<std::string, std::string>& where) {
  // Periods and timeouts are in simulated time: at N x speed each instrument's block scales them
  // so the wall-time rates stay sane (polling at 100 Hz wall, sync at 20 Hz wall) and host
  // scheduling latency (~1 ms wall = N ms simulated) does not read as an instrument timeout.
  auto out = fmt::output_file(path);
  out.print("# Written by `opsync sim` for this simulation (speed x{:g}); see docs/daemon.md.\n", a.speed);
  out.print("[station]\ndb = \"station.db\"\nsession = \"{}\"\nnote = \"simulated Li-rich first charge ({})\"\n\n",
            a.session, out_dir);
  out.print("[clock]\nmode = \"sim\"\nsim_clock_file = \"clock.json\"\n\n");
  out.print("[status]\nhttp = \"127.0.0.1:0\"\n");
  for (const auto& instrument : instruments) out.print("\n{}", instrument.station_toml(where));
}

// The --fault help: the link faults, then each instrument's own, from the driver table.
std::string fault_help() {
  std::string kinds;
  for (const drivers::DriverSpec* d : drivers::driver_table()) {
    for (std::string_view f : d->sim_faults) kinds += fmt::format(", {} ({})", f, d->name);
  }
  return fmt::format("NAME:KIND@T, T in simulated s from the start. NAME: a simulated link, as listed at start; "
                     "KIND: drop, stall:S, garbage:N (any link){}",
                     kinds);
}

// One endpoint for each link of each instrument, in the driver table's order: a TCP listener,
// or a pseudo-terminal reached through "<out_dir>/<link>.tty".
std::vector<std::unique_ptr<SimEndpoint>> make_endpoints(asio::io_context& io, const clock::SimClock& clock,
                                                         const std::vector<drivers::SimInstrument>& instruments,
                                                         const std::string& out_dir) {
  std::vector<std::unique_ptr<SimEndpoint>> endpoints;
  for (const auto& instrument : instruments) {
    for (const drivers::SimLink& l : instrument.links) {
      if (l.kind == drivers::SimLink::Kind::kTcp) {
        endpoints.push_back(std::make_unique<TcpSimServer>(io, clock, *l.device, l.name, l.tcp_port, l.link));
      } else {
        const std::string tty = (std::filesystem::absolute(out_dir) / (l.name + ".tty")).string();
        endpoints.push_back(std::make_unique<PtySimServer>(io, clock, *l.device, l.name, tty, l.link));
      }
    }
  }
  return endpoints;
}

// Starts the endpoints and returns where each is reached (link name -> address, for
// station.toml). Throws when a --fault names no link, listing the known ones.
std::map<std::string, std::string> start_endpoints(std::vector<std::unique_ptr<SimEndpoint>>& endpoints,
                                                   const std::vector<ScheduledFault>& faults) {
  std::map<std::string, std::string> where;
  std::string known;
  for (auto& e : endpoints) {
    e->start();
    where[e->name()] = e->where();
    known += (known.empty() ? "" : ", ") + e->name();
  }
  for (const auto& f : faults) {
    if (!where.count(f.endpoint)) {
      throw std::runtime_error(fmt::format("--fault: no simulated instrument '{}' (known: {})", f.endpoint, known));
    }
  }
  return where;
}

// truth.json: the scenario's truth, the run's speed and lead, the instruments' knobs marked
// in_truth, and the scans with their strain.
void write_truth_json(const std::string& path, const Scenario& scenario, const SimArgs& a) {
  std::ofstream t(path);
  nlohmann::json truth = scenario.truth();
  truth["sim"] = {{"speed", a.speed}, {"lead_s", a.lead_s}};
  for (const drivers::DriverSpec* d : drivers::driver_table()) {
    for (const drivers::SimKnob& k : d->sim_knobs) {
      if (!k.in_truth) continue;
      const double v = a.knobs.at(std::string(k.key));
      // Whole numbers as integers, as they were given.
      if (std::abs(v) < 9e15 && v == std::floor(v)) {
        truth["sim"][std::string(k.key)] = static_cast<int64_t>(v);
      } else {
        truth["sim"][std::string(k.key)] = v;
      }
    }
  }
  nlohmann::json scans = nlohmann::json::array();
  for (const ScanTruth& sc : scenario.scans()) {
    scans.push_back({{"number", sc.number}, {"start_ns", sc.start_ns}, {"end_ns", sc.end_ns},
                     {"voltage_mid_v", sc.voltage_mid_v}, {"strain", sc.strain}});
  }
  truth["scans"] = std::move(scans);
  t << truth.dump(2) << "\n";
}

// The start banner on stderr: the scenario's span in simulated and wall time, where each link
// is, and the files written.
void print_start(const SimArgs& a, const Scenario& scenario, int64_t start_ns, const clock::SimClock& clock,
                 const std::map<std::string, std::string>& where) {
  fmt::print(stderr, "opsync sim: speed x{:g}, scenario {} .. {} ({:.1f} h simulated, {:.1f} s wall)\n", a.speed,
             format_iso_utc(start_ns, 0), format_iso_utc(scenario.end_ns(), 0),
             static_cast<double>(scenario.end_ns() - start_ns) / 3.6e12,
             static_cast<double>(scenario.end_ns() - clock.now_ns()) / 1e9 / a.speed);
  for (const auto& [name, w] : where) fmt::print(stderr, "  {:<14} {}\n", name, w);
  fmt::print(stderr, "  wrote {0}/clock.json, {0}/truth.json, {0}/strain.csv, {0}/station.toml\n", a.out_dir);
}

// The --fault faults, each on a timer at its simulated time (start_ns + at_s); the timers must
// live as long as io runs.
std::vector<std::unique_ptr<asio::steady_timer>> schedule_faults(
    asio::io_context& io, const clock::SimClock& clock, int64_t start_ns, const std::vector<ScheduledFault>& faults,
    std::vector<std::unique_ptr<SimEndpoint>>& endpoints) {
  std::vector<std::unique_ptr<asio::steady_timer>> fault_timers;
  for (const auto& f : faults) {
    const int64_t at_ns = start_ns + static_cast<int64_t>(f.at_s * 1e9);
    auto t = std::make_unique<asio::steady_timer>(io);
    t->expires_after(std::chrono::nanoseconds(clock.to_monotonic_duration_ns(std::max<int64_t>(0, at_ns - clock.now_ns()))));
    t->async_wait([&endpoints, f](const boost::system::error_code& ec) {
      if (ec) return;
      for (auto& e : endpoints) {
        if (e->name() == f.endpoint) {
          const bool ok = e->inject(f.kind);
          fmt::print(stderr, "opsync sim: fault {} on {} at {:.0f} s{}\n", f.kind, f.endpoint, f.at_s,
                     ok ? "" : " (not known to this instrument)");
        }
      }
    });
    fault_timers.push_back(std::move(t));
  }
  return fault_timers;
}

// Faults on demand from standard input: "rga drop", "bridge bad_crc", "macnet stall:30". Reads
// only when stdin is a terminal or OPSYNC_SIM_STDIN is set; must outlive io.run().
class StdinFaults {
 public:
  StdinFaults(asio::io_context& io, std::vector<std::unique_ptr<SimEndpoint>>& endpoints) : endpoints_(endpoints) {
    if (!isatty(STDIN_FILENO) && !std::getenv("OPSYNC_SIM_STDIN")) return;
    in_ = std::make_unique<asio::posix::stream_descriptor>(io, ::dup(STDIN_FILENO));
    read_line();
  }
  StdinFaults(const StdinFaults&) = delete;
  StdinFaults& operator=(const StdinFaults&) = delete;

 private:
  // One line "NAME KIND", injected into the link(s) of that name; then the next line.
  void read_line() {
    asio::async_read_until(*in_, line_buf_, '\n', [this](const boost::system::error_code& ec, size_t) {
      if (ec) return;
      std::istream is(&line_buf_);
      std::string name, kind;
      is >> name >> kind;
      std::string rest;
      std::getline(is, rest);
      bool found = false;
      for (auto& e : endpoints_) {
        if (e->name() == name) {
          found = true;
          fmt::print(stderr, "opsync sim: {} {}: {}\n", name, kind, e->inject(kind) ? "done" : "unknown fault");
        }
      }
      if (!found && !name.empty()) fmt::print(stderr, "opsync sim: no instrument '{}'\n", name);
      read_line();
    });
  }

  std::vector<std::unique_ptr<SimEndpoint>>& endpoints_;
  std::unique_ptr<asio::posix::stream_descriptor> in_;
  asio::streambuf line_buf_;
};

void run_sim(const SimArgs& a) {
  std::vector<ScheduledFault> faults;
  for (const auto& f : a.faults) faults.push_back(parse_fault(f));
  std::filesystem::create_directories(a.out_dir);

  ScenarioParams p = a.scenario;
  if (a.gitt) p.gitt_pulse_s = 600;
  const Scenario scenario(p);

  // Simulation time zero is the scenario's start, minus a lead so the daemon is connected and
  // its clock fits have settled when the experiment begins.
  const clock::SimClock clock(p.start_ns - static_cast<int64_t>(a.lead_s * 1e9), clock::monotonic_now_ns(), a.speed);

  // Every instrument of the driver table, in its order.
  const ScenarioWorld world(scenario);
  const drivers::SimSetup setup{world, a.knobs, a.speed};
  std::vector<drivers::SimInstrument> instruments;
  for (const drivers::DriverSpec* d : drivers::driver_table()) instruments.push_back(d->make_sim(setup));

  asio::io_context io;
  std::vector<std::unique_ptr<SimEndpoint>> endpoints = make_endpoints(io, clock, instruments, a.out_dir);
  const std::map<std::string, std::string> where = start_endpoints(endpoints, faults);

  const std::string dir = a.out_dir;
  runtime::write_sim_clock_file(dir + "/clock.json", clock);
  write_truth_json(dir + "/truth.json", scenario, a);
  write_strain_csv(dir + "/strain.csv", scenario);
  // Written last and atomically: its appearance tells scripts and tests the instruments are up.
  write_station_toml(dir + "/station.toml.tmp", dir, a, instruments, where);
  std::filesystem::rename(dir + "/station.toml.tmp", dir + "/station.toml");
  if (!a.quiet) print_start(a, scenario, p.start_ns, clock, where);

  const auto fault_timers = schedule_faults(io, clock, p.start_ns, faults, endpoints);
  const StdinFaults stdin_faults(io, endpoints);

  const int64_t end_ns = scenario.end_ns() + static_cast<int64_t>(5e9 * std::max(1.0, a.speed / 60));
  asio::steady_timer end_timer(io);
  const int64_t wall_ns = a.duration_s > 0 ? static_cast<int64_t>(a.duration_s * 1e9)
                                           : clock.to_monotonic_duration_ns(end_ns - clock.now_ns());
  end_timer.expires_after(std::chrono::nanoseconds(std::max<int64_t>(0, wall_ns)));
  end_timer.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) io.stop();
  });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  io.run();
  for (auto& e : endpoints) e->stop();
  for (const auto& instrument : instruments) {
    if (instrument.write_truth) instrument.write_truth(dir);
  }
  if (!a.quiet) fmt::print(stderr, "opsync sim: done; edge truth in {}/bridge_truth.csv\n", dir);
}

}  // namespace

void add_sim_command(CLI::App& app) {
  std::string about =
      "Serve simulated instruments driven by one operando scenario (Li-rich first charge at C/10 to 4.8 V, O2/CO2\n"
      "release at the 4.47 V plateau, diffraction scans with strain), one for each driver:\n";
  for (const drivers::DriverSpec* d : drivers::driver_table()) about += fmt::format("  {:<8} {}\n", d->name, d->summary);
  about += "Writes clock.json, truth.json, strain.csv and a ready station.toml into --out; run\n"
           "`opsyncd --config OUT/station.toml` against it.";
  auto* cmd = app.add_subcommand("sim", about);
  auto a = std::make_shared<SimArgs>();
  cmd->add_option("--out", a->out_dir, "Folder for clock, truth, strain and station files")->capture_default_str();
  cmd->add_option("--speed", a->speed, "Simulation speed (600: the 10 h charge in a minute)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 100000.0));
  cmd->add_option("--c-rate", a->scenario.c_rate, "Charge rate in C (0.1 = C/10, the 10 h first charge)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 60.0));
  cmd->add_option("--rest-before-s", a->scenario.rest_before_s, "OCV rest before the charge (simulated s)")
      ->capture_default_str();
  cmd->add_option("--scan-period-s", a->scenario.scan_period_s, "A diffraction scan every ... simulated seconds")
      ->capture_default_str();
  cmd->add_option("--scan-duration-s", a->scenario.scan_duration_s, "Length of each scan")->capture_default_str();
  cmd->add_option("--frames-per-scan", a->scenario.frames_per_scan, "Detector-frame trigger edges per scan")
      ->capture_default_str();
  cmd->add_option("--max-scans", a->scenario.max_scans, "At most this many scans (0: through the whole charge)")
      ->capture_default_str();
  cmd->add_flag("--gitt", a->gitt, "Add a GITT section (600 s pulses, 1800 s rests) in the middle of the charge");
  cmd->add_option("--duration-s", a->duration_s, "Stop after this many wall seconds (default: when the scenario ends)");
  cmd->add_option("--lead-s", a->lead_s, "Simulated seconds before the scenario starts")->capture_default_str();
  // Each instrument's own options, from its row of the driver table.
  for (const drivers::DriverSpec* d : drivers::driver_table()) {
    for (const drivers::SimKnob& k : d->sim_knobs) {
      std::string option = "--" + std::string(k.key);
      std::replace(option.begin(), option.end(), '_', '-');
      double& value = a->knobs[std::string(k.key)];
      value = k.default_value;
      cmd->add_option(option, value, std::string(k.help))->capture_default_str();
    }
  }
  cmd->add_option("--fault", a->faults, fault_help());
  cmd->add_flag("--quiet", a->quiet, "Print nothing but errors");
  cmd->add_option("--session", a->session, "Session name written into station.toml")->capture_default_str();
  cmd->callback([a] { run_sim(*a); });
}

}  // namespace opsync::sim
