// The contract between an instrument driver and the daemon. Drivers are sans-IO: they never
// touch sockets, serial ports, timers or clocks. The runner hands them received bytes with the
// reference time at which they were read, calls on_tick() when their deadline is due, and passes
// on what they emit. That makes every driver testable with byte vectors and a session
// replayable by feeding its captured bytes back with their times.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "records/records.h"

namespace opsync::drivers {

inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

// A channel a driver records into; declared once, referred to by its index afterwards.
struct ChannelSpec {
  std::string name;      // voltage, current, ion_current_m32, ...
  std::string unit;      // SI: V, A, C, J, s, "" for counts
  std::string quantity;  // human text
};

// What the runner provides to a driver. All times are reference-clock ns.
class DriverHost {
 public:
  virtual ~DriverHost() = default;
  // Queue bytes to the instrument (they are captured with the time they are written).
  virtual void send(std::span<const uint8_t> bytes) = 0;
  void send(std::string_view text) {
    send(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  virtual void sample(size_t channel_index, int64_t t_ns, double value) = 0;
  // kind: step_change, cycle_change, status, filament_error, crc_error, malformed, timeout, ...
  virtual void event(int64_t t_ns, std::string_view kind, std::string detail) = 0;
  virtual void scan(const records::Scan& scan) = 0;  // session_id/source_id are filled by the runner
  virtual void clock_model(const records::ClockModel& model) = 0;
  // The link is unusable (e.g. replies stopped, login refused): close and reconnect with backoff.
  virtual void request_reconnect(std::string reason) = 0;
};

// Counters every driver keeps; shown in status and checked by tests.
struct DriverCounters {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t messages_ok = 0;
  uint64_t malformed = 0;   // frames/replies that could not be parsed (skipped, logged as events)
  uint64_t crc_errors = 0;
  uint64_t timeouts = 0;
  // Per-message events over the rate limit (EventLimiter): counted here, not recorded one by one.
  uint64_t events_suppressed = 0;
  std::map<std::string, uint64_t, std::less<>> events_suppressed_by_kind;
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string_view kind() const = 0;  // cycler | ms | bridge
  virtual const std::vector<ChannelSpec>& channels() const = 0;

  // A new connection is up (after the transport connected). Start the protocol: login, set-up.
  virtual void on_connect(DriverHost& host, int64_t t_ns) = 0;
  // Bytes arrived; t_ns is the reference time at which the read completed.
  virtual void on_bytes(DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) = 0;
  // Called once the reference time reaches next_deadline_ns() (or later).
  virtual void on_tick(DriverHost& host, int64_t t_ns) = 0;
  virtual int64_t next_deadline_ns() const = 0;
  // The connection is gone; forget partial frames and pending requests. The host is still
  // there for final records (a last clock fit, edges held for mapping).
  virtual void on_disconnect(DriverHost& host, int64_t t_ns) = 0;
  // The daemon is stopping while connected: send what leaves the instrument safe (e.g. the
  // RGA's MR0/FL0). The runner writes it out before closing.
  virtual void on_stop(DriverHost& host, int64_t t_ns) { (void)host; (void)t_ns; }

  virtual const DriverCounters& counters() const = 0;
};

}  // namespace opsync::drivers
