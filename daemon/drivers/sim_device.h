// The contract of a simulated instrument: like a driver, sans-IO. A server (TCP listener or
// pseudo-terminal, in tools/sim) feeds it the client's bytes with the simulation time they
// arrive and sends on what it produces when it is due. Time-driven output (a reply after the
// instrument's measuring time, trigger edges) is scheduled through next_deadline_ns().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/driver.h"

namespace opsync::drivers {

class SimDevice {
 public:
  virtual ~SimDevice() = default;
  virtual void on_connect(int64_t t_ns) = 0;
  virtual void on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) = 0;
  virtual void on_tick(int64_t t_ns) = 0;
  virtual int64_t next_deadline_ns() const = 0;
  // Bytes due for sending at or before the last on_bytes/on_tick time; the server writes them.
  virtual std::vector<uint8_t> take_output() = 0;
  virtual void on_disconnect(int64_t t_ns) = 0;
  // Device-level faults (e.g. "bad_crc", "clock_step:<ns>"); false if this device has no such
  // fault. Link-level faults (drop, stall, garbage) are the server's.
  virtual bool inject(std::string_view fault) { (void)fault; return false; }
};

}  // namespace opsync::drivers
