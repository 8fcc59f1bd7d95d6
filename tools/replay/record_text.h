// The records the drivers produced in a session as text, one record per line in a canonical
// order: the expected output of a golden capture log (like gpsd's .chk files), readable and
// diffable, exact (values with 17 significant digits, times in ns).
//
//   opsync-records 1
//   session STARTED_NS                 times below are ns after it
//   source "NAME" "KIND"
//   channel "NAME" "UNIT"
//    +T VALUE                          samples, by time then arrival
//   events
//    +T "KIND" "DETAIL"                driver events (no bookkeeping), by time, kind, detail
//   scans
//    NUMBER +START +END "LABEL" ["NAME" "UNIT" VALUE]...
//   clock_models
//    +FITTED "METHOD" OFFSET_NS RATE RMS_NS MAX_NS N_POINTS UNCERTAINTY_NS
#pragma once

#include <string>
#include <vector>

#include "store/reader.h"

namespace opsync::replay {

// Sources in the order given (by name); those not in the session are left out.
std::string render_records(store::StoreReader& reader, records::SessionId session, const std::vector<std::string>& sources);

struct TextDifference {
  bool same = true;
  size_t line = 0;  // 1-based, first line that differs
  std::string expected, actual;
  size_t expected_lines = 0, actual_lines = 0;
};
TextDifference compare_text(const std::string& expected, const std::string& actual);

}  // namespace opsync::replay
