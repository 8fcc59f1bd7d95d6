// The host build's truth file: one CSV row per scripted transition, in time order, so that a
// test can score the daemon's mapped edge times against the true ones. Columns as `opsync sim`'s
// bridge_truth.csv, with the fate spelled out:
//   seq,t_ns,input,edge,tick,fate
//   17,1700000012345678901,2,rising,2016000123456,sent
//   ,1700000012355678901,2,falling,2016001803456,filtered
// seq is empty for filtered transitions; t_ns is the true time on the reference clock (the
// daemon's: CLOCK_REALTIME at start + CLOCK_MONOTONIC since, or the simulation clock).
#pragma once

#include <cstdio>
#include <string>

#include "host/host_port.h"

namespace opsync::fw::host {

class TruthLog {
 public:
  // Opens (truncates) path and writes the header; false with `error` set if it cannot.
  bool open(const std::string& path, std::string& error);
  void write(const TruthEdge& edge);
  void flush();
  ~TruthLog();

 private:
  std::FILE* file_ = nullptr;
};

std::string format_truth_row(const TruthEdge& edge);

}  // namespace opsync::fw::host
