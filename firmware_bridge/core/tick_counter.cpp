// 64-bit tick extension; see tick_counter.h for the race it avoids.
#include "tick_counter.h"

namespace opsync::fw {

void TickCounter::on_overflow() {
  const CriticalSection cs(port_);
  port_.timer_overflow_clear();
  ++high_;
}

uint64_t TickCounter::now() {
  const CriticalSection cs(port_);
  uint32_t high = high_;
  const uint32_t count = port_.timer_count();
  if (port_.timer_overflow_pending() && count < 0x8000'0000u) ++high;
  return (static_cast<uint64_t>(high) << 32) | count;
}

uint64_t TickCounter::extend(uint32_t latched_count) {
  const uint64_t now_tick = now();
  // Unsigned 32-bit difference: how long ago the latch was, correct across the wrap.
  const uint32_t age_tick = static_cast<uint32_t>(now_tick) - latched_count;
  return now_tick - age_tick;
}

}  // namespace opsync::fw
