// The SRS RGA's row in the driver table: its station.toml keys, the driver, the serve dialect,
// and the simulated RGA `opsync sim` serves (RS-232 on a pseudo-terminal, and TCP with login as
// the RGA's Ethernet adapter).
#include <algorithm>
#include <fmt/format.h>

#include "drivers/driver_table.h"
#include "drivers/rga/rga_keys.h"
#include "drivers/rga/rga_serve_dialect.h"
#include "drivers/rga/rga_sim.h"

namespace opsync::drivers::rga {
namespace {

std::unique_ptr<Driver> make_driver(ConfigTable& keys) {
  rga::RgaConfig c = rga::read_rga_keys(keys);
  keys.finish();
  return std::make_unique<rga::RgaDriver>(c);
}

std::unique_ptr<ServeDialect> make_dialect(ConfigTable&) { return rga::make_rga_serve_dialect(); }

SimInstrument make_sim(const SimSetup& setup) {
  const SimWorld* world = &setup.world;
  rga::RgaSimOptions serial;
  serial.ion_current_a = [world](int mass, int64_t t_ns) { return world->ion_current_a(mass, t_ns); };
  rga::RgaSimOptions tcp = serial;
  tcp.tcp_login = true;

  SimInstrument sim;
  sim.links.push_back({"rga", SimLink::Kind::kPty, 0, std::make_shared<rga::RgaSimulator>(serial), {}});
  sim.links.push_back({"rga-tcp", SimLink::Kind::kTcp, static_cast<uint16_t>(setup.knobs.at("rga_port")),
                       std::make_shared<rga::RgaSimulator>(tcp), {}});
  const double s = setup.speed;
  const double capillary_s = world->transport_delay_s();
  sim.station_toml = [s, capillary_s](const std::map<std::string, std::string>& where) {
    return fmt::format(
        "[[source]]\nname = \"rga\"\ndriver = \"rga\"\naddress = \"{}?baud=28800&rtscts=1\"\nmasses = [32, 44]\n"
        "noise_floor = 4\ntimeout_scale = {:g}\ntransport_delay_s = {:g}  # capillary, cell to spectrometer\n"
        "# over TCP with login: address = \"{}\", tcp_login = true\n",
        where.at("rga"), std::max(1.0, s / 20), capillary_s, where.at("rga-tcp"));
  };
  return sim;
}

}  // namespace

extern const DriverSpec rga_driver_spec;
const DriverSpec rga_driver_spec{
    .name = "rga",
    .summary = "SRS RGA100/200/300 over RS-232 (28800 baud, RTS/CTS) or its Ethernet adapter (TCP 818, login)",
    .make_driver = make_driver,
    .make_serve_dialect = make_dialect,
    .make_sim = make_sim,
    .sim_knobs = {{"rga_port", 0, "RGA TCP port (0: any free one)", false}},
    .sim_faults = {"filament_fail", "filament_ok", "stall", "unstall"},
    .station_example = R"([[source]]
name = "rga"
driver = "rga"
address = "serial:///dev/ttyUSB0?baud=28800&rtscts=1"   # or "tcp://host:818" with tcp_login = true
masses = [32, 44]            # m/z read each loop, 1..M_MAX
noise_floor = 4              # NF 0..7: higher is faster and noisier
emission_ma = 1.0            # 0..3.5 mA
cdem_voltage_v = 0           # 0..2490 V; 0 = Faraday cup
calibrate = true             # CA before the loop
status_every_n_loops = 10    # ER? after every N loops; 0 = never
period_s = 0                 # between loop starts; 0 = continuously
timeout_scale = 1            # >= 1; for accelerated simulations
transport_delay_s = 30       # capillary, cell to spectrometer (common key)
# tcp_login = true, user = "admin", password = "admin"
)",
};

}  // namespace opsync::drivers::rga
