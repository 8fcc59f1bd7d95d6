// The trigger bridge's protocol engine, portable across the STM32F405 port, the host build and
// the tests. Two entry points carry all the work:
//  - timer_isr(): the timer interrupt. Reads pending captures and the overflow flag through the
//    port; edges go into the SPSC ring (edge_capture.h). Bounded work, never blocks.
//  - poll(): one pass of the main loop. Decodes host frames (sync ping, configure, start/stop,
//    reset counters, status request), and sends one frame after another as the UART takes
//    bytes: sync replies first (t3 is latched as the reply is encoded, and again if the UART
//    did not take its first byte at once, so it is the tick just before the reply leaves), then
//    Hello, Status, errors, heartbeats, edges.
// No heap, no exceptions, no RTTI; every buffer is a member, sized by nanopb's Envelope bound.
//
// Hello goes out at start(), on host_connected() (a port that can tell, e.g. USB DTR), and when
// a valid frame arrives after host_idle_ms of silence: a host that (re)opens the link talks at
// once, and bytes sent before it listened are lost.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edge_capture.h"
#include "envelope_codec.h"
#include "frame.h"
#include "port.h"
#include "tick_counter.h"

namespace opsync::fw {

inline constexpr uint32_t kProtocolVersion = 1;  // bridge.proto PROTOCOL_VERSION_CURRENT
// Configure limits: beyond these a setting is a mistake, not a trigger set-up (BAD_CONFIG).
inline constexpr uint32_t kMaxDebounceUs = 10'000'000;
inline constexpr uint32_t kMaxHoldoffUs = 10'000'000;

struct CoreOptions {
  uint32_t tick_hz = 168'000'000;
  const char* firmware_version = "0.0.0";  // at most 23 characters are sent
  uint32_t heartbeat_period_ms = 1000;
  uint32_t host_idle_ms = 2000;
  uint32_t tick_high_at_start = 0;  // see TickCounter
};

// Offered every intact frame whose Envelope has no body this core knows (a field number it was
// not built with, e.g. the test-only injection message of proto/bridge_test.proto), with the
// tick at which the frame was complete. Returns true if it took the frame; otherwise the core
// answers Error UNKNOWN_MESSAGE, as it does with no extension set (every production build).
// Called from poll(), in the main loop.
class FrameExtension {
 public:
  virtual bool extension_frame(const uint8_t* payload, size_t size, uint64_t rx_tick) = 0;

 protected:
  ~FrameExtension() = default;
};

struct CoreCounters {
  uint32_t edges_seen = 0;
  uint32_t edges_dropped = 0;
  uint32_t frames_rejected = 0;
  uint32_t rx_overruns = 0;
};

class BridgeCore {
 public:
  BridgeCore(Port& port, const CoreOptions& options);

  // After reset: power-on configuration (every input, rising edges, not running), queue Hello.
  void start();
  void timer_isr();
  void poll();
  void host_connected();
  void set_extension(FrameExtension* extension) { extension_ = extension; }

  uint64_t now_tick() { return ticks_.now(); }
  CoreCounters counters();
  EdgeCapture& edges() { return edges_; }
  const FrameStats& rx_stats() const { return rx_.stats(); }
  uint32_t tick_hz() const { return options_.tick_hz; }

 private:
  struct PendingSync {
    uint32_t seq;
    int64_t t1_host_ns;
    uint64_t t2_tick;
  };
  struct PendingError {
    uint8_t code;
    const char* detail;
  };
  static constexpr uint8_t kSyncSlots = 4;   // pings waiting for their reply
  static constexpr uint8_t kErrorSlots = 4;  // more errors than this before one is sent are dropped
  // RX bytes handled per poll: keeps TX going under a flood of garbage.
  static constexpr size_t kMaxRxBytesPerPoll = 4 * kMaxFrameBytes;

  void receive();
  void handle_frame(const FrameResult& frame, uint64_t rx_tick);
  void handle_configure(const opsync_bridge_Configure& c);
  void queue_error(uint8_t code, const char* detail);
  void transmit();
  // Encodes the most urgent pending message into tx_; false when there is nothing to send.
  bool next_frame();
  bool load_frame(const Envelope& envelope);
  // Encodes the reply to s with t3 = now: again before its first byte if the UART was busy.
  bool load_sync_reply(const PendingSync& s);
  void fill_counters(opsync_bridge_Counters* out);
  uint64_t ms_to_ticks(uint32_t ms) const;

  Port& port_;
  CoreOptions options_;
  TickCounter ticks_;
  EdgeCapture edges_;
  FrameDecoder rx_;
  uint32_t frames_rejected_ = 0;
  uint32_t rx_overruns_at_reset_ = 0;  // the port's count when the host last reset the counters
  FrameExtension* extension_ = nullptr;

  uint64_t boot_tick_ = 0;
  uint64_t next_heartbeat_tick_ = 0;
  uint64_t last_rx_tick_ = 0;
  bool host_heard_ = false;
  uint32_t dropped_reported_ = 0;

  bool hello_pending_ = false;
  bool status_pending_ = false;
  PendingSync sync_[kSyncSlots] = {};
  uint8_t sync_count_ = 0;
  PendingError errors_[kErrorSlots] = {};
  uint8_t error_count_ = 0;

  uint8_t tx_[kMaxFrameBytes] = {};
  size_t tx_len_ = 0;
  size_t tx_pos_ = 0;
  bool tx_is_sync_ = false;  // tx_ holds a sync reply (then tx_sync_ is what it answers)
  PendingSync tx_sync_ = {};
};

}  // namespace opsync::fw
