// The host build's port: the portable core's Port implemented on a simulated board, driven by a
// reference clock (the daemon's opsync::clock::Clock: real, simulation or fake time).
//  - Timer: SimTickClock gives the 64-bit count at any reference time; the core sees its low 32
//    bits and an overflow flag that is set when the count crosses 2^32 and stays set until the
//    core clears it, as TIM2's update flag does.
//  - Input capture: the EdgeSchedule's transitions are latched at their true times; the timer
//    interrupt (BridgeCore::timer_isr) runs isr_latency_ns later, with the port's time reading
//    the interrupt's own time. Interrupts run in time order, so an edge just before a wrap is
//    served with the overflow flag already pending: the race the core must get right. (Two
//    captures on one input before the interrupt are both kept: overcapture is not modelled.)
//  - UART: bytes the core writes cross the link per frame, bytes from the host per chunk
//    read, each delayed by U(0, jitter_ns), in order.
//  - Truth: every scripted transition, with the seq the core gave it (edges are matched by input
//    and tick) or why it has none, handed to a sink in time order.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "clock/clock.h"
#include "core/bridge_core.h"
#include "core/port.h"
#include "host/edge_script.h"
#include "host/sim_tick_clock.h"

namespace opsync::fw::host {

enum class EdgeFate : uint8_t {
  sent,      // qualified and queued for the host
  dropped,   // qualified, ring full: its seq is a gap
  filtered,  // not an edge for the core (input off, polarity, debounce, holdoff, not running)
};
std::string_view fate_name(EdgeFate fate);

struct TruthEdge {
  int64_t t_ns = 0;  // true time (reference clock)
  uint8_t input = 0;
  EdgeKind kind = EdgeKind::rising;
  uint64_t tick = 0;  // what the timer latched, 64-bit
  uint32_t seq = 0;   // valid unless filtered
  EdgeFate fate = EdgeFate::filtered;
};

struct HostPortOptions {
  SimTickOptions tick;     // origin_ns defaults to the clock's time at construction if 0
  int64_t jitter_ns = 0;   // link delay per frame/chunk, each way: U(0, jitter_ns)
  int64_t isr_latency_ns = 200;  // capture latched -> interrupt runs (Cortex-M4: ~12 cycles + handler)
  uint64_t seed = 1;
};

class HostPort final : public Port, public EdgeObserver {
 public:
  using TruthSink = std::function<void(const TruthEdge&)>;

  HostPort(const clock::Clock& clock, HostPortOptions options, EdgeSchedule schedule, TruthSink sink = {});
  // The core runs on this port; sets the core's edge observer (the truth's seq numbers).
  void attach(BridgeCore& core);
  // TickCounter's high word at construction (CoreOptions::tick_high_at_start).
  uint32_t tick_high_at_start() const { return high_at_start_; }

  // Runs every timer interrupt due by now_ns (captures and wraps), each at its own time.
  void run_interrupts(int64_t now_ns);
  // Bytes from the host read at t_ns; the core's UART has them after the link delay.
  void from_host(std::span<const uint8_t> bytes, int64_t t_ns);
  // Bytes the core sent that have crossed the link by now_ns.
  std::vector<uint8_t> to_host(int64_t now_ns);
  // Next interrupt or link delivery (kNever if none).
  int64_t next_event_ns() const;
  // Next link delivery only: bytes due at the core's UART or at the host (kNever if none).
  int64_t next_link_event_ns() const;
  // When the first bytes from the host not yet read by the core reach its UART (kNever if none).
  int64_t next_rx_due_ns() const { return rx_.empty() ? kNever : rx_.front().due_ns; }
  // One pass of the core's main loop at t_ns, as if the board's loop, which spins, ran then:
  // bytes due by then are read and handled with the timer at that time, and what it sends leaves
  // then. t_ns must not precede the last interrupt run; a t_ns before the previous pass's is
  // taken as that (the core's time never runs backwards). Every pass of the core goes here.
  void poll_at(int64_t t_ns);
  // Hands every remaining truth row to the sink (at exit), undetected ones as filtered.
  void flush_truth();

  const SimTickClock& tick_clock() const { return ticks_; }
  uint64_t detections_without_truth() const { return unmatched_; }
  uint64_t rx_bytes() const { return rx_bytes_; }
  uint64_t tx_bytes() const { return tx_bytes_; }

  // ---- Port ----
  uint32_t timer_count() override;
  bool timer_overflow_pending() override;
  void timer_overflow_clear() override;
  bool capture_read(RawCapture* out) override;
  void capture_enable(uint32_t input_mask) override { capture_mask_ = input_mask; }
  bool uart_write(uint8_t byte) override;
  bool uart_read(uint8_t* byte) override;
  uint32_t critical_enter() override { return 0; }  // one thread: interrupts are run by run_interrupts
  void critical_exit(uint32_t state) override { (void)state; }

  // ---- EdgeObserver ----
  void edge_detected(const EdgeRecord& edge, bool dropped) override;

 private:
  struct Chunk {
    int64_t due_ns;
    std::vector<uint8_t> bytes;
  };

  int64_t now_ns() const { return in_isr_ ? isr_time_ns_ : in_poll_at_ ? poll_time_ns_ : clock_.now_ns(); }
  uint32_t wraps_at(int64_t t_ns) const { return static_cast<uint32_t>(ticks_.tick_at(t_ns) >> 32); }
  int64_t next_wrap_ns() const;
  int64_t link_delay_ns();
  void emit_resolved(int64_t now_ns);

  const clock::Clock& clock_;
  HostPortOptions opt_;
  SimTickClock ticks_;
  EdgeSchedule schedule_;
  TruthSink sink_;
  BridgeCore* core_ = nullptr;
  std::mt19937_64 rng_;

  uint32_t high_at_start_ = 0;
  uint32_t cleared_wraps_ = 0;  // wraps when the core last cleared the overflow flag
  uint32_t capture_mask_ = 0xF;
  bool in_isr_ = false;
  int64_t isr_time_ns_ = 0;
  bool in_poll_at_ = false;
  int64_t poll_time_ns_ = 0;
  std::deque<RawCapture> captures_;  // latched, not yet read by the interrupt

  std::deque<TruthEdge> truth_;       // time order; front emitted once resolved
  std::deque<bool> truth_resolved_;
  uint64_t unmatched_ = 0;

  std::vector<uint8_t> tx_frame_;  // the frame the core is writing
  std::deque<Chunk> tx_;
  std::deque<Chunk> rx_;  // a chunk leaves once its last byte is read
  size_t rx_pos_ = 0;     // in rx_.front()
  int64_t last_tx_due_ns_ = 0;
  int64_t last_rx_due_ns_ = 0;
  uint64_t rx_bytes_ = 0, tx_bytes_ = 0;
};

}  // namespace opsync::fw::host
