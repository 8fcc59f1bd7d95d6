// Extends the port's free-running 32-bit timer to 64-bit ticks. The overflow interrupt counts
// wraps into a high word; readers combine it with the counter, and a capture latched by the
// hardware is placed relative to the counter's present value.
//
// The classic race is a capture at the wrap: the counter latched 0xFFFFFFF0, the counter then
// wrapped and the overflow flag is pending, but the overflow handler has not run yet (or runs
// first and has already bumped the high word). Pairing the capture with the high word directly
// is then off by 2^32 one way or the other. Here neither ordering matters:
//  - now() reads the high word and the counter with interrupts masked; if the overflow flag is
//    pending and the counter is in its lower half, the wrap happened but was not counted yet, so
//    the high word is one more. (Counter read before the flag: a wrap between the two reads leaves
//    a counter in the upper half and is rightly not counted.)
//  - a capture is at most one period old, so its tick is now() minus (now - capture) mod 2^32.
// Assumes the overflow interrupt is never held off for half a period (12.8 s at 168 MHz) and a
// capture is read within one period of being latched.
#pragma once

#include <cstdint>

#include "port.h"

namespace opsync::fw {

class TickCounter {
 public:
  // high_at_start: wraps before the core started (0 on hardware, whose timer starts with it; the
  // host build starts its simulated timer at any count).
  explicit TickCounter(Port& port, uint32_t high_at_start = 0) : port_(port), high_(high_at_start) {}

  // Timer interrupt, overflow flag set: clears the flag and counts the wrap, as one step for readers.
  void on_overflow();
  // Any context.
  uint64_t now();
  // The 64-bit tick of a counter value the hardware latched (within the last period).
  uint64_t extend(uint32_t latched_count);

 private:
  Port& port_;
  uint32_t high_;  // wraps counted; written with interrupts masked
};

}  // namespace opsync::fw
