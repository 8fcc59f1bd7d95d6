// The trigger bridge's row in the driver table: its station.toml keys, the driver, the serve
// dialect, and the simulated bridge `opsync sim` serves (a pseudo-terminal with a drifting clock
// and link jitter, playing the scenario's trigger edges).
#include <algorithm>
#include <fmt/format.h>
#include <fmt/os.h>

#include "drivers/bridge/bridge_keys.h"
#include "drivers/bridge/bridge_serve_dialect.h"
#include "drivers/bridge/bridge_sim.h"
#include "drivers/driver_table.h"

namespace opsync::drivers::bridge {
namespace {

std::unique_ptr<Driver> make_driver(ConfigTable& keys) {
  bridge::BridgeConfig c = bridge::read_bridge_keys(keys);
  keys.finish();
  return std::make_unique<bridge::BridgeDriver>(c);
}

std::unique_ptr<ServeDialect> make_dialect(ConfigTable&) { return bridge::make_bridge_serve_dialect(); }

SimInstrument make_sim(const SimSetup& setup) {
  bridge::BridgeSimOptions o;
  o.drift_ppm = setup.knobs.at("bridge_drift_ppm");
  o.offset_ns = 3'141'592'653;
  o.origin_ns = setup.world.start_ns();
  for (const TriggerEdgeTruth& e : setup.world.trigger_edges()) {
    o.schedule.push_back(bridge::ScheduledEdge{e.t_ns, static_cast<uint32_t>(e.input),
                                               e.rising ? bridge::EDGE_KIND_RISING : bridge::EDGE_KIND_FALLING});
  }
  auto device = std::make_shared<bridge::BridgeSimulator>(o);
  SimLinkOptions link;
  link.jitter_max_ns = static_cast<int64_t>(setup.knobs.at("bridge_jitter_us") * 1e3);

  SimInstrument sim;
  sim.links.push_back({"bridge", SimLink::Kind::kPty, 0, device, link});
  // The fit keeps 512 exchanges whatever the speed (sync_window_s is reference time): at 600 x a
  // 50 s window would hold two pings.
  const double s = setup.speed;
  sim.station_toml = [s](const std::map<std::string, std::string>& where) {
    const double sync_s = std::max(0.1, s * 0.05);
    return fmt::format(
        "[[source]]\nname = \"bridge\"\ndriver = \"bridge\"\naddress = \"{}?baud=115200\"\n"
        "sync_period_s = {:g}\nsync_window_s = {:g}\nmax_rtt_ms = {:g}\nsync_timeout_s = {:g}\n"
        "reply_timeout_s = {:g}\n",
        where.at("bridge"), sync_s, 512 * sync_s, std::max(10.0, s * 2.0), std::max(1.0, s * 0.05),
        std::max(3.0, s * 0.5));
  };
  // The true time of every edge the bridge stamped, for scoring the daemon.
  sim.write_truth = [device](const std::string& dir) {
    auto out = fmt::output_file(dir + "/bridge_truth.csv");
    out.print("seq,t_ns,input,edge,tick,fate\n");
    for (const auto& e : device->truth()) {
      out.print("{},{},{},{},{},{}\n", e.seq, e.t_ns, e.input, e.edge == bridge::EDGE_KIND_RISING ? "rising" : "falling",
                e.tick, static_cast<int>(e.fate));
    }
  };
  return sim;
}

}  // namespace

extern const DriverSpec bridge_driver_spec;
const DriverSpec bridge_driver_spec{
    .name = "bridge",
    .summary = "opsync trigger bridge (firmware_bridge/): COBS + protobuf frames over USB serial, 115200 baud",
    .make_driver = make_driver,
    .make_serve_dialect = make_dialect,
    .make_sim = make_sim,
    .sim_knobs = {{"bridge_jitter_us", 1000, "Bridge link jitter, each way, max (simulated us)"},
                  {"bridge_drift_ppm", 80, "Bridge clock drift"}},
    .sim_faults = {"bad_crc", "garbage", "clock_step:NS", "drop_edges:N"},
    .station_example = R"([[source]]
name = "bridge"
driver = "bridge"
address = "serial:///dev/ttyACM0?baud=115200"
scan_start_input = 0         # trigger inputs 0..3; start = end: one gate signal
scan_end_input = 1
detector_frame_input = 2
debounce_us = 0
holdoff_us = 0
sync_period_s = 0.02         # (0, 60]: ping period
sync_window_s = 50           # [1, 86400]: how much of the past the clock fit keeps
max_rtt_ms = 10              # slower exchanges carry no timing
sync_timeout_s = 1
reply_timeout_s = 3          # nothing at all this long: reconnect
)",
};

}  // namespace opsync::drivers::bridge
