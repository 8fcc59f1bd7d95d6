// A Port whose hardware state the test sets by hand: counter value, overflow flag, pending
// captures, UART bytes. Lets a test put the core in the exact state of a race (a capture
// latched at 0xFFFFFFF0 while the counter has wrapped and the overflow flag is pending).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "core/port.h"

namespace opsync::fw::testing {

class FakePort final : public Port {
 public:
  // ---- hardware state ----
  uint32_t count = 0;
  bool overflow_flag = false;
  std::deque<RawCapture> captures;
  std::deque<uint8_t> rx;       // bytes the UART has received
  std::vector<uint8_t> tx;      // bytes the core wrote
  size_t tx_room = SIZE_MAX;    // bytes the UART takes before it reports busy
  uint32_t enabled_mask = 0;

  // Advances the counter as the hardware would: wraps set the overflow flag.
  void advance(uint64_t ticks) {
    const uint64_t total = static_cast<uint64_t>(count) + ticks;
    if (total >> 32 != 0) overflow_flag = true;
    count = static_cast<uint32_t>(total);
  }
  // Latches a capture at the current count.
  void latch(uint8_t input, EdgeKind kind) { captures.push_back(RawCapture{input, count, kind}); }
  void receive(const std::vector<uint8_t>& bytes) { rx.insert(rx.end(), bytes.begin(), bytes.end()); }

  // ---- bookkeeping checked by tests ----
  int critical_depth = 0;
  int max_critical_depth = 0;
  int timer_reads_outside_critical = 0;  // counter read without interrupts masked
  int overflow_clears = 0;

  uint32_t timer_count() override {
    if (critical_depth == 0) ++timer_reads_outside_critical;
    return count;
  }
  bool timer_overflow_pending() override { return overflow_flag; }
  void timer_overflow_clear() override {
    overflow_flag = false;
    ++overflow_clears;
  }
  bool capture_read(RawCapture* out) override {
    if (captures.empty()) return false;
    *out = captures.front();
    captures.pop_front();
    return true;
  }
  void capture_enable(uint32_t mask) override { enabled_mask = mask; }
  bool uart_write(uint8_t byte) override {
    if (tx_room == 0) return false;
    if (tx_room != SIZE_MAX) --tx_room;
    tx.push_back(byte);
    return true;
  }
  bool uart_read(uint8_t* byte) override {
    if (rx.empty()) return false;
    *byte = rx.front();
    rx.pop_front();
    return true;
  }
  uint32_t critical_enter() override {
    ++critical_depth;
    if (critical_depth > max_critical_depth) max_critical_depth = critical_depth;
    return static_cast<uint32_t>(critical_depth - 1);
  }
  void critical_exit(uint32_t state) override { critical_depth = static_cast<int>(state); }
};

}  // namespace opsync::fw::testing
