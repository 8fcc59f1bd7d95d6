// The row loop shared by the tabular readers: walks the data lines of a delimited table once
// (string_view fields, no regex), checks field counts, and turns the mapped columns into
// relative times (exact ns), absolute times (UTC ns), state letters and SI values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "import/common/columns.h"
#include "import/common/text_file.h"
#include "import/common/time_context.h"

namespace opsync::import {

inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// Where a table is in a file.
struct TableSource {
  const TextFile* file = nullptr;
  size_t header_index = 0;   // 0-based line index of the column-name line
  size_t data_begin = 0;     // 0-based line index of the first data line
  size_t data_end = 0;       // one past the last line to read
  char delimiter = ',';
  std::vector<std::string> headers;  // one per field of the header line, trimmed
  size_t max_rows = std::numeric_limits<size_t>::max();  // Zilien: the series' own count
  bool skip_comment_lines = false;   // lines starting with '#' (generic CSV)

  size_t header_line() const { return header_index + 1; }
};

// A table whose column names are on line `header_index` and whose data run to the file's end.
TableSource make_table(const TextFile& file, size_t header_index, char delimiter);

// The parsed rows. Vectors are parallel, one entry per data row.
struct RowData {
  std::vector<size_t> line;        // 1-based line number of the row
  bool has_rel = false;            // relative time column read (rel_ns valid)
  std::vector<int64_t> rel_ns;
  bool has_abs = false;            // absolute time read (abs_ns valid; kNoTime where empty)
  std::vector<int64_t> abs_ns;
  bool abs_naive = false;          // some absolute time was naive local time
  const MappedColumn* abs_column = nullptr;
  std::vector<char> state;         // State letter, uppercase; 0 when absent
  std::vector<const MappedColumn*> value_columns;  // numeric roles, in column order
  std::vector<std::vector<double>> values;        // SI values per value column; NaN = none
  std::vector<std::string> notes;  // assumptions found while reading (time text form, ...)
};

// Roles whose cells are numbers scaled to SI (RowData::values), as opposed to time and text.
bool is_numeric_role(Role r);

// Reads every data row. Throws ImportError (with line and column) for a wrong field count, a
// cell that is not a number, a missing or unreadable time. Values are scaled to SI.
RowData read_rows(const TableSource& source, const ColumnMap& map, TimeContext& times);

// Absolute time of every row (UTC ns, before the clock offset) and the start of the file's
// time axis recorded in `result`. With a relative time column the start is, in order: --start,
// the first row's absolute time minus its relative time, `header_start`, else none (relative).
// Without one, each row's absolute time is used (shifted to --start if given).
std::vector<int64_t> place_rows(const RowData& rows, const TimeContext& times,
                                const std::optional<StartSource>& header_start,
                                ImportResult& result);

// Values of a numeric role as a channel name / SI unit / quantity text.
struct ChannelSpec {
  std::string name;
  std::string unit;
  std::string quantity;
};
ChannelSpec channel_spec(Role role);

// "3" for 3.0, "2.5" otherwise: step/cycle numbers in event text.
std::string format_count(double v);

}  // namespace opsync::import
