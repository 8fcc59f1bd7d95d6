// The MacNet cycler's row in the driver table: its station.toml keys, the driver, the serve
// dialect, and the simulated cycler `opsync sim` serves (JSON and binary on two TCP ports).
#include <cmath>
#include <fmt/format.h>

#include "drivers/driver_table.h"
#include "drivers/macnet/macnet_keys.h"
#include "drivers/macnet/macnet_serve_dialect.h"
#include "drivers/macnet/macnet_sim.h"

namespace opsync::drivers::macnet {
namespace {

std::unique_ptr<Driver> make_driver(ConfigTable& keys) {
  MacnetConfig c = read_macnet_keys(keys);
  keys.finish();
  return std::make_unique<MacnetDriver>(c);
}

std::unique_ptr<ServeDialect> make_dialect(ConfigTable& keys) {
  const auto mode = macnet::parse_mode(keys.str("mode").value_or("json"));
  return make_macnet_serve_dialect(mode.value_or(macnet::Mode::kJson));
}

SimInstrument make_sim(const SimSetup& setup) {
  const SimWorld* world = &setup.world;
  MacnetSimOptions json;
  json.mode = macnet::Mode::kJson;
  json.tester_offset_ms = std::llround(setup.knobs.at("tester_offset_ms"));
  json.tester_drift_ppm = setup.knobs.at("tester_drift_ppm");
  json.tester_drift_anchor_ns = world->start_ns();
  json.model = [world](int64_t t_ns) { return world->cell(t_ns); };
  MacnetSimOptions binary = json;
  binary.mode = macnet::Mode::kBinary;

  SimInstrument sim;
  sim.links.push_back({"macnet", SimLink::Kind::kTcp, static_cast<uint16_t>(setup.knobs.at("macnet_port")),
                       std::make_shared<MacnetSimulator>(json), {}});
  sim.links.push_back({"macnet-binary", SimLink::Kind::kTcp, static_cast<uint16_t>(setup.knobs.at("macnet_binary_port")),
                       std::make_shared<MacnetSimulator>(binary), {}});
  // Polling at 100 Hz wall whatever the speed; a millisecond of host scheduling is `speed` ms of
  // simulated time, so the reply timeout and the sync gate grow with it.
  const double s = setup.speed;
  sim.station_toml = [s](const std::map<std::string, std::string>& where) {
    return fmt::format(
        "[[source]]\nname = \"cycler\"\ndriver = \"macnet\"\naddress = \"{}\"\nmode = \"json\"\nchannel = 1\n"
        "poll_period_s = {:g}\nreply_timeout_s = {:g}\nsync_max_rtt_ms = {:g}\n"
        "# binary MacNet of the same cycler: {}\n",
        where.at("macnet"), std::max(0.1, s * 0.01), std::max(2.0, s * 0.1), std::max(100.0, s * 5.0),
        where.at("macnet-binary"));
  };
  return sim;
}

}  // namespace

extern const DriverSpec macnet_driver_spec;
const DriverSpec macnet_driver_spec{
    .name = "macnet",
    .summary = "Maccor cycler over MacNet (JSON-RPC on TCP 57570 or binary on TCP 57560)",
    .make_driver = make_driver,
    .make_serve_dialect = make_dialect,
    .make_sim = make_sim,
    .sim_knobs = {{"macnet_port", 0, "MacNet JSON port (0: any free one)", false},
                  {"macnet_binary_port", 0, "MacNet binary port (0: any free one)", false},
                  {"tester_drift_ppm", -30, "Cycler PC clock drift"},
                  {"tester_offset_ms", 1500, "Cycler PC clock offset"}},
    .sim_faults = {"stall", "unstall", "tester_clock_step:MS"},
    .station_example = R"([[source]]
name = "cycler"
driver = "macnet"
address = "tcp://192.168.1.20:57570"   # the Maccor PC
mode = "json"                    # or "binary" (TCP 57560)
channel = 1                      # tester channel, counted from 1 as Maccor does
poll_period_s = 0.1              # (0, 3600]
reply_timeout_s = 2
tester_zone_offset_s = 0         # local - UTC of the tester PC (JSON TesterTime has no zone)
state_on_change_only = true      # cycle/step/status recorded when they change
sync_max_rtt_ms = 100            # exchanges slower than this carry no timing
)",
};

}  // namespace opsync::drivers::macnet
