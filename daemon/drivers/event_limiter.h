// Rate limit for the events a driver records per message (malformed, crc_error, timeout,
// edge_seq_reset, ...). A faulty link or a chattering trigger input can produce thousands of
// those a second; recorded one by one they would flood the session's events table and the
// store writer while saying nothing new. Per kind, at most max_per_s events are recorded in each
// second of reference time; the rest are counted (DriverCounters::events_suppressed, per kind),
// the next recorded event of that kind says how many were suppressed before it, and if none comes,
// one summary event of that kind says so once its second is over (flush()).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "drivers/driver.h"

namespace opsync::drivers {

class EventLimiter {
 public:
  explicit EventLimiter(int max_per_s = 5) : max_per_s_(max_per_s) {}

  // Records the event through host, or counts it in counters.events_suppressed[kind].
  // Returns whether it was recorded.
  bool event(DriverHost& host, DriverCounters& counters, int64_t t_ns, std::string_view kind, std::string detail);
  // Records a summary event for each kind whose suppressed events were not reported yet, once
  // its one-second window is over (or now, with force: before a disconnect or stop).
  void flush(DriverHost& host, int64_t t_ns, bool force = false);
  // When flush() has a summary to record; kNoDeadline when none is waiting.
  int64_t next_deadline_ns() const;
  // Suppressed events not yet reported in a recorded event, all kinds.
  uint64_t unreported() const;

 private:
  struct Window {
    int64_t start_ns = 0;
    int emitted = 0;
    uint64_t unreported = 0;  // suppressed since the last recorded event of this kind
  };

  int max_per_s_;
  std::map<std::string, Window, std::less<>> windows_;
};

}  // namespace opsync::drivers
