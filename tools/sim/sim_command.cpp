// `opsync sim`: builds the scenario, starts the simulated MacNet cycler (JSON and binary TCP),
// SRS RGA (pseudo-terminal and TCP with login) and trigger bridge (pseudo-terminal with its own
// drifting clock and link jitter) on a shared simulation clock, writes the clock file, the
// scenario's truth, the per-scan strain as a reconstruction would deliver it, and a
// station.toml for opsyncd pointing at all of it; then serves until the scenario ends.
// Faults: --fault NAME:KIND@T (T in simulated seconds from the scenario start) or lines
// "NAME KIND" on standard input.
#include "sim/sim_command.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/os.h>
#include <fstream>
#include <map>
#include <unistd.h>

#include "core/time_format.h"
#include "drivers/bridge/bridge_sim.h"
#include "drivers/macnet/macnet_sim.h"
#include "drivers/rga/rga_sim.h"
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
  uint16_t macnet_port = 0, macnet_binary_port = 0, rga_port = 0;
  double bridge_jitter_us = 1000;
  double bridge_drift_ppm = 80;
  double tester_drift_ppm = -30;
  int64_t tester_offset_ms = 1500;
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
  return ScheduledFault{spec.substr(0, colon), spec.substr(colon + 1, at - colon - 1), std::stod(spec.substr(at + 1))};
}

void write_strain_csv(const std::string& path, const Scenario& sc) {
  auto out = fmt::output_file(path);
  out.print("scan,start,end,strain\n");
  for (const ScanTruth& s : sc.scans()) {
    out.print("{},{},{},{:.9g}\n", s.number, format_iso_utc(s.start_ns, 9), format_iso_utc(s.end_ns, 9), s.strain);
  }
}

void write_station_toml(const std::string& path, const std::string& out_dir, const SimArgs& a,
                        const std::map<std::string, std::string>& where) {
  // Periods and timeouts are in simulated time: at N x speed they are scaled so the wall-time
  // rates stay sane (polling at 100 Hz wall, sync at 20 Hz wall) and host scheduling latency
  // (~1 ms wall = N ms simulated) does not read as an instrument timeout.
  const double s = a.speed;
  auto out = fmt::output_file(path);
  out.print("# Written by `opsync sim` for this simulation (speed x{:g}); see docs/daemon.md.\n", s);
  out.print("[station]\ndb = \"station.db\"\nsession = \"{}\"\nnote = \"simulated Li-rich first charge ({})\"\n\n",
            a.session, out_dir);
  out.print("[clock]\nmode = \"sim\"\nsim_clock_file = \"clock.json\"\n\n");
  out.print("[status]\nhttp = \"127.0.0.1:0\"\n\n");
  out.print("[[source]]\nname = \"cycler\"\ndriver = \"macnet\"\naddress = \"{}\"\nmode = \"json\"\nchannel = 1\n"
            "poll_period_s = {:g}\nreply_timeout_s = {:g}\nsync_max_rtt_ms = {:g}\n"
            "# binary MacNet of the same cycler: {}\n\n",
            where.at("macnet"), std::max(0.1, s * 0.01), std::max(2.0, s * 0.1), std::max(100.0, s * 5.0),
            where.at("macnet-binary"));
  out.print("[[source]]\nname = \"rga\"\ndriver = \"rga\"\naddress = \"{}?baud=28800&rtscts=1\"\nmasses = [32, 44]\n"
            "noise_floor = 4\ntimeout_scale = {:g}\ntransport_delay_s = {:g}  # capillary, cell to spectrometer\n"
            "# over TCP with login: address = \"{}\", tcp_login = true\n\n",
            where.at("rga"), std::max(1.0, s / 20), a.scenario.capillary_delay_s, where.at("rga-tcp"));
  // The fit keeps 512 exchanges whatever the speed (sync_window_s is reference time): at 600 x a
  // 50 s window would hold two pings.
  const double bridge_sync_s = std::max(0.1, s * 0.05);
  out.print("[[source]]\nname = \"bridge\"\ndriver = \"bridge\"\naddress = \"{}?baud=115200\"\n"
            "sync_period_s = {:g}\nsync_window_s = {:g}\nmax_rtt_ms = {:g}\nsync_timeout_s = {:g}\n"
            "reply_timeout_s = {:g}\n",
            where.at("bridge"), bridge_sync_s, 512 * bridge_sync_s, std::max(10.0, s * 2.0), std::max(1.0, s * 0.05),
            std::max(3.0, s * 0.5));
}

void run_sim(const SimArgs& a) {
  std::vector<ScheduledFault> faults;
  for (const auto& f : a.faults) faults.push_back(parse_fault(f));
  std::filesystem::create_directories(a.out_dir);

  ScenarioParams p = a.scenario;
  if (a.gitt) p.gitt_pulse_s = 600;
  const Scenario scenario(p);

  // Simulation time zero is the scenario's start, minus a lead so the daemon is connected and
  // its clock fits have settled when the experiment begins.
  const SimClock clock(p.start_ns - static_cast<int64_t>(a.lead_s * 1e9), monotonic_now_ns(), a.speed);

  daemon::MacnetSimOptions mo;
  mo.mode = daemon::macnet::Mode::kJson;
  mo.tester_offset_ms = a.tester_offset_ms;
  mo.tester_drift_ppm = a.tester_drift_ppm;
  mo.tester_drift_anchor_ns = p.start_ns;
  mo.model = [&scenario](int64_t t_ns) {
    const CellState c = scenario.cell(t_ns);
    daemon::CellState m;
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
  };
  daemon::MacnetSimulator macnet_json(mo);
  daemon::MacnetSimOptions mob = mo;
  mob.mode = daemon::macnet::Mode::kBinary;
  daemon::MacnetSimulator macnet_binary(mob);

  daemon::rga::RgaSimOptions ro;
  ro.ion_current_a = [&scenario](int mass, int64_t t_ns) { return scenario.ion_current_a(mass, t_ns); };
  daemon::rga::RgaSimulator rga_serial(ro);
  daemon::rga::RgaSimOptions rto = ro;
  rto.tcp_login = true;
  daemon::rga::RgaSimulator rga_tcp(rto);

  bridge::BridgeSimOptions bo;
  bo.drift_ppm = a.bridge_drift_ppm;
  bo.offset_ns = 3'141'592'653;
  bo.origin_ns = p.start_ns;
  for (const TriggerEdge& e : scenario.edges()) {
    bo.schedule.push_back(bridge::ScheduledEdge{e.t_ns, static_cast<uint32_t>(e.input),
                                                e.rising ? bridge::EDGE_KIND_RISING : bridge::EDGE_KIND_FALLING});
  }
  bridge::BridgeSimulator bridge_dev(bo);

  asio::io_context io;
  LinkOptions jitter;
  jitter.jitter_max_ns = static_cast<int64_t>(a.bridge_jitter_us * 1e3);
  std::vector<std::unique_ptr<SimEndpoint>> endpoints;
  endpoints.push_back(std::make_unique<TcpSimServer>(io, clock, macnet_json, "macnet", a.macnet_port));
  endpoints.push_back(std::make_unique<TcpSimServer>(io, clock, macnet_binary, "macnet-binary", a.macnet_binary_port));
  endpoints.push_back(std::make_unique<PtySimServer>(io, clock, rga_serial, "rga",
                                                     (std::filesystem::absolute(a.out_dir) / "rga.tty").string()));
  endpoints.push_back(std::make_unique<TcpSimServer>(io, clock, rga_tcp, "rga-tcp", a.rga_port));
  endpoints.push_back(std::make_unique<PtySimServer>(
      io, clock, bridge_dev, "bridge", (std::filesystem::absolute(a.out_dir) / "bridge.tty").string(), jitter));
  std::map<std::string, std::string> where;
  for (auto& e : endpoints) {
    e->start();
    where[e->name()] = e->where();
  }
  for (const auto& f : faults) {
    if (!where.count(f.endpoint)) {
      throw std::runtime_error(fmt::format("--fault: no simulated instrument '{}' (known: macnet, macnet-binary, rga, "
                                           "rga-tcp, bridge)",
                                           f.endpoint));
    }
  }

  const std::string dir = a.out_dir;
  daemon::write_sim_clock_file(dir + "/clock.json", clock);
  {
    std::ofstream t(dir + "/truth.json");
    nlohmann::json truth = scenario.truth();
    truth["sim"] = {{"speed", a.speed}, {"lead_s", a.lead_s}, {"bridge_drift_ppm", a.bridge_drift_ppm},
                    {"bridge_jitter_us", a.bridge_jitter_us}, {"tester_drift_ppm", a.tester_drift_ppm},
                    {"tester_offset_ms", a.tester_offset_ms}};
    nlohmann::json scans = nlohmann::json::array();
    for (const ScanTruth& sc : scenario.scans()) {
      scans.push_back({{"number", sc.number}, {"start_ns", sc.start_ns}, {"end_ns", sc.end_ns},
                       {"voltage_mid_v", sc.voltage_mid_v}, {"strain", sc.strain}});
    }
    truth["scans"] = std::move(scans);
    t << truth.dump(2) << "\n";
  }
  write_strain_csv(dir + "/strain.csv", scenario);
  // Written last and atomically: its appearance tells scripts and tests the instruments are up.
  write_station_toml(dir + "/station.toml.tmp", dir, a, where);
  std::filesystem::rename(dir + "/station.toml.tmp", dir + "/station.toml");
  if (!a.quiet) {
    fmt::print(stderr, "opsync sim: speed x{:g}, scenario {} .. {} ({:.1f} h simulated, {:.1f} s wall)\n", a.speed,
               format_iso_utc(p.start_ns, 0), format_iso_utc(scenario.end_ns(), 0),
               static_cast<double>(scenario.end_ns() - p.start_ns) / 3.6e12,
               static_cast<double>(scenario.end_ns() - clock.now_ns()) / 1e9 / a.speed);
    for (const auto& [name, w] : where) fmt::print(stderr, "  {:<14} {}\n", name, w);
    fmt::print(stderr, "  wrote {0}/clock.json, {0}/truth.json, {0}/strain.csv, {0}/station.toml\n", dir);
  }

  // Scheduled faults, at simulated times.
  std::vector<std::unique_ptr<asio::steady_timer>> fault_timers;
  for (const auto& f : faults) {
    const int64_t at_ns = p.start_ns + static_cast<int64_t>(f.at_s * 1e9);
    auto t = std::make_unique<asio::steady_timer>(io);
    t->expires_after(std::chrono::nanoseconds(clock.to_monotonic_duration_ns(std::max<int64_t>(0, at_ns - clock.now_ns()))));
    t->async_wait([&, f](const boost::system::error_code& ec) {
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

  // Faults on demand from standard input: "rga drop", "bridge bad_crc", "macnet stall:30".
  std::unique_ptr<asio::posix::stream_descriptor> in;
  asio::streambuf line_buf;
  std::function<void()> read_line;
  if (isatty(STDIN_FILENO) || std::getenv("OPSYNC_SIM_STDIN")) {
    in = std::make_unique<asio::posix::stream_descriptor>(io, ::dup(STDIN_FILENO));
    read_line = [&] {
      asio::async_read_until(*in, line_buf, '\n', [&](const boost::system::error_code& ec, size_t) {
        if (ec) return;
        std::istream is(&line_buf);
        std::string name, kind;
        is >> name >> kind;
        std::string rest;
        std::getline(is, rest);
        bool found = false;
        for (auto& e : endpoints) {
          if (e->name() == name) {
            found = true;
            fmt::print(stderr, "opsync sim: {} {}: {}\n", name, kind, e->inject(kind) ? "done" : "unknown fault");
          }
        }
        if (!found && !name.empty()) fmt::print(stderr, "opsync sim: no instrument '{}'\n", name);
        read_line();
      });
    };
    read_line();
  }

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
  {
    // The bridge's truth: the true time of every edge it stamped, for scoring the daemon.
    auto out = fmt::output_file(dir + "/bridge_truth.csv");
    out.print("seq,t_ns,input,edge,tick,fate\n");
    for (const auto& e : bridge_dev.truth()) {
      out.print("{},{},{},{},{},{}\n", e.seq, e.t_ns, e.input, e.edge == bridge::EDGE_KIND_RISING ? "rising" : "falling",
                e.tick, static_cast<int>(e.fate));
    }
  }
  if (!a.quiet) fmt::print(stderr, "opsync sim: done; edge truth in {}/bridge_truth.csv\n", dir);
}

}  // namespace

void add_sim_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sim",
      "Serve simulated instruments driven by one operando scenario (Li-rich first charge at C/10 to 4.8 V, O2/CO2\n"
      "release at the 4.47 V plateau, diffraction scans with strain): MacNet cycler (TCP), SRS RGA (pseudo-terminal\n"
      "and TCP 818-style with login), trigger bridge (pseudo-terminal). Writes clock.json, truth.json, strain.csv and\n"
      "a ready station.toml into --out; run `opsyncd --config OUT/station.toml` against it.");
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
  cmd->add_option("--macnet-port", a->macnet_port, "MacNet JSON port (0: any free one)")->capture_default_str();
  cmd->add_option("--macnet-binary-port", a->macnet_binary_port, "MacNet binary port (0: any free one)")
      ->capture_default_str();
  cmd->add_option("--rga-port", a->rga_port, "RGA TCP port (0: any free one)")->capture_default_str();
  cmd->add_option("--bridge-jitter-us", a->bridge_jitter_us, "Bridge link jitter, each way, max (simulated us)")
      ->capture_default_str();
  cmd->add_option("--bridge-drift-ppm", a->bridge_drift_ppm, "Bridge clock drift")->capture_default_str();
  cmd->add_option("--tester-drift-ppm", a->tester_drift_ppm, "Cycler PC clock drift")->capture_default_str();
  cmd->add_option("--tester-offset-ms", a->tester_offset_ms, "Cycler PC clock offset")->capture_default_str();
  cmd->add_option("--fault", a->faults,
                  "NAME:KIND@T, T in simulated s from the start. NAME: macnet, macnet-binary, rga, rga-tcp, bridge; "
                  "KIND: drop, stall:S, garbage:N, and per instrument bad_crc, clock_step:NS, drop_edges:N, "
                  "filament_fail");
  cmd->add_flag("--quiet", a->quiet, "Print nothing but errors");
  cmd->add_option("--session", a->session, "Session name written into station.toml")->capture_default_str();
  cmd->callback([a] { run_sim(*a); });
}

}  // namespace opsync::sim
