// Trigger edges from input-capture events: the interrupt side of the core. Each capture is
// extended to 64-bit ticks, then qualified per input (enabled, polarity, debounce, holdoff); a
// qualified edge takes the next sequence number and goes into the SPSC ring for the main loop.
// A full ring drops the edge but not its number: the host sees the gap in Edge.seq, the count
// in edges_dropped, and the main loop sends an Error RING_OVERFLOW.
//
// Debounce (a level must hold debounce_us to count): both transitions of an input are captured;
// a transition becomes a candidate stamped with its own capture tick, and is confirmed when the
// next transition comes at least debounce_us later or, if none comes, by expire_debounce() from
// the main loop. A transition sooner than that cancels the candidate and is itself no edge (it
// returns the input to the level it had). So a bouncing contact yields one edge, stamped at the
// last bounce, which starts the level that held.
// Holdoff: after an edge, further edges on the same input within holdoff_us are ignored.
//
// Concurrency: on_capture runs in the timer interrupt. Main-loop calls that touch the producer
// side (configure, expire_debounce, reset_counters) mask interrupts, so the ring always has one
// producer at a time.
#pragma once

#include <cstdint>

#include "port.h"
#include "spsc_ring.h"
#include "tick_counter.h"

namespace opsync::fw {

enum class Polarity : uint8_t { unspecified = 0, rising = 1, falling = 2, both = 3 };  // as bridge.proto

struct CaptureConfig {
  uint32_t inputs_enabled_mask = 0xF;
  Polarity polarity[kInputCount] = {Polarity::rising, Polarity::rising, Polarity::rising, Polarity::rising};
  uint32_t debounce_us = 0;
  uint32_t holdoff_us = 0;
};

struct EdgeRecord {
  uint32_t seq = 0;
  uint8_t input = 0;
  EdgeKind kind = EdgeKind::rising;
  uint64_t tick = 0;
};

struct EdgeCounters {
  uint32_t edges_seen = 0;     // == next Edge.seq
  uint32_t edges_dropped = 0;  // ring full
};

// Told of every qualified edge, in the producer context (the host build writes its truth file
// with it; firmware leaves it unset).
class EdgeObserver {
 public:
  virtual void edge_detected(const EdgeRecord& edge, bool dropped) = 0;

 protected:
  ~EdgeObserver() = default;
};

// 64 edges = 1 KiB: 32 ms of a 2 kHz detector-frame trigger with the UART stalled.
inline constexpr uint32_t kEdgeRingCapacity = 64;

class EdgeCapture {
 public:
  EdgeCapture(Port& port, TickCounter& ticks, uint32_t tick_hz);

  // ---- timer interrupt ----
  void on_capture(const RawCapture& capture);

  // ---- main loop ----
  void configure(const CaptureConfig& config);
  const CaptureConfig& config() const { return config_; }
  void set_running(bool running);
  bool running() const { return running_; }
  void reset_counters();  // zero the counters; Edge.seq restarts at 0
  EdgeCounters counters();
  void expire_debounce();
  bool pop(EdgeRecord* edge) { return ring_.pop(edge); }
  uint32_t queued() const { return ring_.size(); }
  void set_observer(EdgeObserver* observer) { observer_ = observer; }

  uint64_t us_to_ticks(uint32_t us) const;

 private:
  struct Candidate {
    bool pending = false;
    EdgeKind kind = EdgeKind::rising;
    uint64_t tick = 0;
  };
  struct Last {
    bool valid = false;
    uint64_t tick = 0;
  };

  // Producer context only (interrupt, or main loop with interrupts masked).
  void qualify(uint8_t input, EdgeKind kind, uint64_t tick);
  void clear_input_state();

  Port& port_;
  TickCounter& ticks_;
  uint32_t tick_hz_;
  CaptureConfig config_;
  uint64_t debounce_tick_ = 0;
  uint64_t holdoff_tick_ = 0;
  bool running_ = false;
  Candidate candidate_[kInputCount];
  Last last_[kInputCount];
  EdgeCounters counters_;
  SpscRing<EdgeRecord, kEdgeRingCapacity> ring_;
  EdgeObserver* observer_ = nullptr;
};

}  // namespace opsync::fw
