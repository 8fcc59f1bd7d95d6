// The simulation clock's parameters as `opsync sim` publishes them and opsyncd reads them:
// a small JSON file {"epoch_ns", "anchor_monotonic_ns", "speed"}. CLOCK_MONOTONIC is shared by
// all processes of one machine, so both sides compute the same simulation time.
#pragma once

#include <chrono>
#include <string>

#include "clock/clock.h"

namespace opsync::runtime {

void write_sim_clock_file(const std::string& path, const clock::SimClock& clock);
// Waits up to `wait` for the file to appear (the simulator may start a moment later).
clock::SimClock read_sim_clock_file(const std::string& path, std::chrono::milliseconds wait);

}  // namespace opsync::runtime
