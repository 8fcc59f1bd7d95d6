// Record-by-record comparison of two sessions (an original and its replay), per source and kind
// of record: samples per channel, driver events, scans, clock models. Bookkeeping events (the
// runner's link events and session-level ones, see is_bookkeeping_event) are not compared.
#pragma once

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "store/reader.h"

namespace opsync::replay {

struct Tally {
  uint64_t original = 0;
  uint64_t replayed = 0;
  uint64_t equal = 0;
  uint64_t different = 0;  // same key (time, channel / kind / number), other content
  uint64_t missing = 0;    // in the original only
  uint64_t extra = 0;      // in the replay only
  bool same() const { return different == 0 && missing == 0 && extra == 0; }
};

struct SourceComparison {
  std::string name;
  Tally samples, events, scans, clock_models;
  // The earliest difference of any kind, in words.
  int64_t first_difference_t_ns = std::numeric_limits<int64_t>::max();
  std::string first_difference;
  bool same() const { return samples.same() && events.same() && scans.same() && clock_models.same(); }
};

struct Comparison {
  std::vector<SourceComparison> sources;
  bool same() const;
};

// Compares the sources named in `sources` (by name) of session a in reader a with session b.
Comparison compare_sessions(store::StoreReader& a, records::SessionId session_a, store::StoreReader& b,
                            records::SessionId session_b, const std::vector<std::string>& sources);

void print_comparison(const Comparison& c, std::FILE* out);

}  // namespace opsync::replay
