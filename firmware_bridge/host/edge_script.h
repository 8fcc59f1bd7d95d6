// The trigger edges the host build plays into its simulated input-capture unit: from a file
// and/or periodic pulse trains, merged in time order (generated lazily: a periodic train may run
// for days).
//
// Edge file: one transition per line, "t_s input edge", separated by blanks or commas; t_s in
// seconds after the start (decimal), input 0..3, edge rising|falling (or r|f, 1|2). '#' starts
// a comment. Example:
//   # scan 1: gate on input 0, three detector frames on input 2
//   1.000 0 rising
//   1.010 2 rising
//   1.030 2 rising
//   1.050 2 rising
//   1.900 0 falling
// Periodic train: "INPUT:PERIOD_MS[:WIDTH_MS[:START_S[:COUNT]]]": a pulse every PERIOD_MS from
// START_S (default 1 s), rising then falling WIDTH_MS later (default: half the period),
// COUNT pulses (default 0: no end).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/port.h"

namespace opsync::fw::host {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

struct ScriptedEdge {
  int64_t t_ns = 0;  // true time, reference clock
  uint8_t input = 0;
  EdgeKind kind = EdgeKind::rising;
};

struct PulseTrain {
  uint8_t input = 0;
  int64_t period_ns = 0;
  int64_t width_ns = 0;
  int64_t start_ns = 0;  // reference time of the first rising edge
  uint64_t count = 0;    // 0: no end
};

// Parses an edge file's text; times are relative to start_ns. False with `error` ("line N: ...").
bool parse_edge_file(std::string_view text, int64_t start_ns, std::vector<ScriptedEdge>& out, std::string& error);
// Parses a periodic spec (see above); start_ns is the reference time of "0 s".
bool parse_pulse_train(std::string_view spec, int64_t start_ns, PulseTrain& out, std::string& error);

class EdgeSchedule {
 public:
  void add(std::vector<ScriptedEdge> edges);  // any order
  void add(const PulseTrain& train);
  int64_t next_ns() const;  // kNever when nothing is left
  ScriptedEdge pop();       // requires next_ns() != kNever

 private:
  struct Train {
    PulseTrain spec;
    uint64_t next_transition = 0;  // even: rising of pulse n/2, odd: its falling
    int64_t time_of(uint64_t transition) const;
    bool done() const;
  };
  std::vector<ScriptedEdge> fixed_;  // sorted, consumed from fixed_next_
  size_t fixed_next_ = 0;
  std::vector<Train> trains_;
};

}  // namespace opsync::fw::host
