// What a driver's row gives `opsync sim`: the simulated devices of its instrument and how each
// is reached (a TCP port on 127.0.0.1 or a pseudo-terminal), the instrument's command-line knobs,
// its [[source]] block for the station.toml the simulator writes, and truth files to write
// when the run ends. The servers themselves (link faults, jitter) are tools/sim's.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/sim_device.h"
#include "drivers/sim_world.h"

namespace opsync::drivers {

// A number `opsync sim` takes as --<key with '-' for '_'>, e.g. bridge_jitter_us.
struct SimKnob {
  std::string_view key;
  double default_value;
  std::string_view help;
  bool in_truth = true;  // written into truth.json's "sim" object (ports are not)
};

using SimKnobValues = std::map<std::string, double, std::less<>>;

struct SimLinkOptions {
  int64_t jitter_max_ns = 0;  // each chunk, each direction, delayed by U(0, jitter) of sim time
  uint64_t seed = 1;
};

struct SimLink {
  enum class Kind { kTcp, kPty };
  std::string name;  // for --fault NAME:KIND and faults typed on standard input; pty file NAME.tty
  Kind kind = Kind::kTcp;
  uint16_t tcp_port = 0;  // 0: any free one
  std::shared_ptr<SimDevice> device;
  SimLinkOptions link;
};

struct SimSetup {
  const SimWorld& world;
  const SimKnobValues& knobs;  // every knob of the table, defaults filled in
  double speed = 1;            // simulated seconds per wall second
};

struct SimInstrument {
  std::vector<SimLink> links;
  // The [[source]] block(s) for station.toml, given the address of each link by name. Periods
  // and timeouts are in simulated time, so they scale with the speed.
  std::function<std::string(const std::map<std::string, std::string>& where)> station_toml;
  // After the run, into the output folder (e.g. the bridge's true edge times). May be empty.
  std::function<void(const std::string& dir)> write_truth;
};

}  // namespace opsync::drivers
