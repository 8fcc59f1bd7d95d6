// Turns a cycler table (BioLogic, Maccor, Arbin, generic CSV, Zilien EC-lab series) into an
// ImportResult: picks the time axis and absolute start, signs the current, derives it from dq
// when needed, builds channels and step/cycle events, and writes the assumption lines.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "import/import_types.h"
#include "import/table_reader.h"
#include "import/time_context.h"

namespace opsync::import {

// What differs between cycler formats once the table is located.
struct CyclerRules {
  std::string format;                      // ImportResult::format
  std::string sign_note;                   // the file's current sign convention, for assumptions
  bool sign_from_state = false;            // Maccor: +|I| for State C, -|I| for D, 0 otherwise
  bool derive_current_from_dq = false;     // BioLogic: I = dq / dt when there is no I column
  std::optional<StartSource> header_start; // absolute start stated in the file's preamble
  std::vector<std::string> notes;          // extra assumption lines (format, header facts...)
  std::string capacity_note;               // appended when a capacity channel is imported
};

ImportResult import_cycler_table(const TableSource& source, const ImportOptions& options,
                                 TimeContext& times, const CyclerRules& rules);

}  // namespace opsync::import
