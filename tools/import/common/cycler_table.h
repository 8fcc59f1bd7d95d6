// Turns a cycler table (BioLogic, Maccor, Arbin, generic CSV, Zilien EC-lab series) into an
// ImportResult: picks the time axis and absolute start, signs the current, derives it from dq
// when needed, builds channels and step/cycle events, and writes the assumption lines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "import/import_types.h"
#include "import/common/table_reader.h"
#include "import/common/time_context.h"

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

// The two halves of import_cycler_table, for readers whose rows do not come from text (the
// BioLogic .mpr): first the column checks on the mapped headers (dq is dropped unless it is
// needed for the current; no time, voltage or current is an ImportError at `header_line`, 0
// for a binary file), then the result from rows already read.
void check_cycler_columns(ColumnMap& map, const std::vector<std::string>& headers,
                          const std::string& path, size_t header_line, const CyclerRules& rules);
ImportResult cycler_result_from_rows(const ColumnMap& map, const std::vector<std::string>& headers,
                                     RowData rows, const ImportOptions& options, TimeContext& times,
                                     const CyclerRules& rules);

}  // namespace opsync::import
