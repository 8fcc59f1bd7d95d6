// Strain (diffraction) scans as delimited text: one row per scan with scan number, start, end
// (relative seconds, ISO date-times, or start_ns/end_ns integer ns), an optional label, and any
// other numeric columns as per-scan values with units taken from the header as written.
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "import/common/columns.h"
#include "import/common/date_text.h"
#include "import/common/delimited.h"
#include "import/readers.h"
#include "import/common/table_reader.h"

namespace opsync::import {
namespace {

// Unit suffixes after '_' that strain tables use but split_header does not know.
constexpr std::array<std::string_view, 15> kStrainUnitSuffixes = {
    "pct", "percent", "ppm", "ue", "microstrain", "nm", "um", "mm", "angstrom", "deg", "degc",
    "k", "mpa", "gpa", "kpa"};

HeaderParts value_name_unit(const std::string& header) {
  HeaderParts parts = split_header(header);
  if (parts.unit.empty()) {
    const size_t us = header.rfind('_');
    if (us != std::string::npos && us > 0 && us + 1 < header.size()) {
      std::string suffix = header.substr(us + 1);
      for (char& c : suffix)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      for (std::string_view u : kStrainUnitSuffixes) {
        if (suffix == u) return HeaderParts{header.substr(0, us), header.substr(us + 1)};
      }
    }
  }
  return parts;
}

struct ScanTime {
  int64_t ns = 0;
  bool absolute = false;
  bool naive = false;  // absolute, read as local time in the assumed zone
};

// The mapped scan columns. Start and end are required; number and label are optional.
struct ScanColumns {
  const MappedColumn* number = nullptr;
  const MappedColumn* start = nullptr;
  const MappedColumn* end = nullptr;
  const MappedColumn* label = nullptr;
};

// A per-scan value column: one not mapped to a scan role. Numeric or not is decided by its first
// non-empty cell.
struct ValueColumn {
  size_t index;
  std::string header;
  std::string name;
  std::string unit;
  int numeric = -1;  // -1 undecided, 0 text (skipped), 1 numeric
};

// What reading a cell needs besides the cell: errors name the file, numbers may use a decimal
// comma, date-times are resolved in the assumed zone.
struct CellContext {
  const std::string& path;
  bool decimal_comma;
  TimeContext& times;
};

// The scan times as read, before they are placed, and which kinds of time the rows used.
struct ScanSpans {
  std::vector<std::pair<ScanTime, ScanTime>> spans;  // (start, end) per scan
  bool any_abs = false;
  bool any_rel = false;
  bool any_naive = false;
};

// The scan columns of the table; a strain file without start or end columns cannot be placed.
ScanColumns find_scan_columns(const ColumnMap& map, const std::vector<std::string>& headers,
                              const std::string& path, size_t header_line) {
  ScanColumns cols{map.get(Role::ScanNumber), map.get(Role::ScanStart), map.get(Role::ScanEnd),
                   map.get(Role::Label)};
  if (!cols.start || !cols.end) {
    throw ImportError(path, header_line, "",
                      fmt::format("no scan {} column found among the headers {}; strain files need "
                                  "start and end per scan: name them with --columns start=HEADER "
                                  "and --columns end=HEADER",
                                  !cols.start ? "start" : "end", list_headers(headers)));
  }
  return cols;
}

// Every column not mapped to a scan role is a candidate per-scan value, named and unit-split from
// its header.
std::vector<ValueColumn> find_value_columns(const ColumnMap& map, const std::vector<std::string>& headers) {
  std::vector<ValueColumn> values;
  for (size_t idx : map.unused) {
    HeaderParts p = value_name_unit(headers[idx]);
    values.push_back(ValueColumn{idx, headers[idx], p.name, p.unit, -1});
  }
  return values;
}

// A scan start or end cell: integer ns (start_ns / end_ns), relative seconds (or the header's
// unit), or an ISO date-time. Throws for a missing or unreadable time.
ScanTime read_scan_time(std::string_view cell, const MappedColumn& col, size_t line_no, const CellContext& cx) {
  const std::string_view s = trim(cell);
  if (is_missing_text(s)) {
    throw ImportError(cx.path, line_no, col.header,
                      fmt::format("scan {} time is missing ('{}')", role_name(col.info.role), s));
  }
  if (col.info.unit_stated && col.info.time_ns_per_unit == 1.0L) {  // start_ns / end_ns
    if (auto v = parse_int64(s)) return {*v, true};
    throw ImportError(cx.path, line_no, col.header,
                      fmt::format("'{}' is not an integer nanosecond time", s));
  }
  const auto rel = col.info.time_ns_per_unit == 1e9L
                       ? parse_seconds_ns(s, cx.decimal_comma)
                       : parse_scaled_ns(s, col.info.time_ns_per_unit, cx.decimal_comma);
  if (rel) return {*rel, false};
  if (auto p = parse_date_time_text(s)) {
    const AbsTime a = cx.times.resolve(*p);
    return {a.utc_ns, true, a.naive};
  }
  throw ImportError(cx.path, line_no, col.header,
                    fmt::format("'{}' is not a time: expected seconds ({}) or an ISO 8601 "
                                "date-time",
                                s, col.info.unit));
}

// A scan as read from one row, with its start and end before they are placed.
struct ScanRow {
  ScanData scan;
  ScanTime start;
  ScanTime end;
};

// One data row: scan number (`next_number` when the table has none), start and end (one kind of
// time for both, end not before start), label and numeric values. `values` learn from the row
// whether they are numeric.
ScanRow read_scan_row(const std::vector<std::string_view>& fields, const ScanColumns& cols,
                      std::vector<ValueColumn>& values, int64_t next_number, size_t line_no, const CellContext& cx) {
  ScanRow row;
  ScanData& scan = row.scan;
  if (cols.number) {
    const Number n = parse_number(fields[cols.number->index], cx.decimal_comma);
    if (n.status != NumberStatus::Ok || n.value != std::floor(n.value)) {
      throw ImportError(cx.path, line_no, cols.number->header,
                        fmt::format("'{}' is not a scan number (a whole number)",
                                    trim(fields[cols.number->index])));
    }
    scan.number = static_cast<int64_t>(n.value);
  } else {
    scan.number = next_number;
  }
  row.start = read_scan_time(fields[cols.start->index], *cols.start, line_no, cx);
  row.end = read_scan_time(fields[cols.end->index], *cols.end, line_no, cx);
  if (row.start.absolute != row.end.absolute) {
    throw ImportError(cx.path, line_no, cols.end->header,
                      "scan start and end mix an absolute date-time and relative seconds; use "
                      "one kind for both");
  }
  if (row.end.ns < row.start.ns) {
    throw ImportError(cx.path, line_no, cols.end->header,
                      "scan ends before it starts; check the start and end columns");
  }
  if (cols.label) scan.label = std::string(trim(fields[cols.label->index]));
  for (ValueColumn& v : values) {
    const std::string_view cell = trim(fields[v.index]);
    if (is_missing_text(cell) || v.numeric == 0) continue;
    const Number n = parse_number(cell, cx.decimal_comma);
    if (v.numeric == -1) v.numeric = n.status == NumberStatus::Ok ? 1 : 0;
    if (v.numeric == 0) continue;
    if (n.status == NumberStatus::Invalid) {
      throw ImportError(cx.path, line_no, v.header, fmt::format("'{}' is not a number", cell));
    }
    scan.values.emplace_back(v.name, n.value);
    scan.value_units.push_back(v.unit);
  }
  return row;
}

// Every data row after the column names ('#' lines and blank lines skipped) as a scan in
// `scans`; returns their times, to be placed once all rows are read. Throws for a row whose
// field count does not fit the header, and for a table without scans or with both kinds of time.
ScanSpans read_scans(const TextFile& file, const TableSource& table, const ScanColumns& cols,
                     std::vector<ValueColumn>& values, const CellContext& cx, std::vector<ScanData>& scans) {
  const size_t header_line = table.header_line();
  std::vector<std::string_view> fields;
  size_t min_fields = 0;
  for (size_t i = 0; i < table.headers.size(); ++i)
    if (!table.headers[i].empty()) min_fields = i + 1;
  ScanSpans out;
  for (size_t li = table.data_begin; li < file.line_count(); ++li) {
    const std::string_view line = file.line(li);
    const std::string_view tl = trim(line);
    if (tl.empty() || tl.front() == '#') continue;
    const size_t line_no = li + 1;
    split_fields(line, table.delimiter, fields);
    if (fields.size() < min_fields || fields.size() > table.headers.size()) {
      throw ImportError(cx.path, line_no, "",
                        fmt::format("row has {} fields but the header (line {}) has {}",
                                    fields.size(), header_line, min_fields));
    }
    ScanRow row = read_scan_row(fields, cols, values, static_cast<int64_t>(scans.size()) + 1, line_no, cx);
    (row.start.absolute ? out.any_abs : out.any_rel) = true;
    out.any_naive = out.any_naive || row.start.naive || row.end.naive;
    out.spans.emplace_back(row.start, row.end);
    scans.push_back(std::move(row.scan));
  }
  if (scans.empty()) {
    throw ImportError(cx.path, header_line, "", "no scan rows after the column names");
  }
  if (out.any_abs && out.any_rel) {
    throw ImportError(cx.path, header_line, cols.start->header,
                      "some scans have absolute date-times and others relative seconds; use one "
                      "kind throughout");
  }
  return out;
}

// Scan times on the result's time axis: absolute times as read (moved as a whole to --start if
// given), relative ones from the start TimeContext chooses.
void place_scans(const ScanSpans& read, const MappedColumn& start_col, TimeContext& times, ImportResult& result) {
  const auto& spans = read.spans;
  if (read.any_abs) {
    const int64_t first = spans.front().first.ns;
    times.place_start(result, StartSource{first, read.any_naive, fmt::format("column '{}' (absolute times)",
                                                                       start_col.header)});
    const int64_t shift = times.start_override() ? *times.start_override() - first : 0;
    for (size_t i = 0; i < spans.size(); ++i) {
      result.scans[i].start_ns = spans[i].first.ns + shift;
      result.scans[i].end_ns = spans[i].second.ns + shift;
    }
  } else {
    times.place_start(result, std::nullopt);
    for (size_t i = 0; i < spans.size(); ++i) {
      result.scans[i].start_ns = result.start_ns + spans[i].first.ns;
      result.scans[i].end_ns = result.start_ns + spans[i].second.ns;
    }
  }
}

// The assumption lines about the value columns: the numeric ones with their units as written,
// the text ones skipped, and how scans are numbered without a number column.
void describe_values(const std::vector<ValueColumn>& values, bool has_number_col,
                     std::vector<std::string>& assumptions) {
  std::vector<std::string> used, text;
  for (const ValueColumn& v : values) {
    if (v.numeric == 1) {
      used.push_back(v.unit.empty() ? fmt::format("'{}'", v.name) : fmt::format("'{}' ({})", v.name, v.unit));
    } else {
      text.push_back(v.header);
    }
  }
  if (!used.empty()) {
    std::string list;
    for (const std::string& u : used) list += (list.empty() ? "" : ", ") + u;
    assumptions.push_back(fmt::format("per-scan values (units as written in the header): {}", list));
  }
  if (!text.empty()) {
    assumptions.push_back(fmt::format("skipped {} non-numeric column(s): {}", text.size(),
                                      list_headers(text, 20)));
  }
  if (!has_number_col) assumptions.push_back("no scan number column: scans numbered 1, 2, ... in file order");
}

}  // namespace

ImportResult read_strain_csv(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const TextFile& file = *in.text;
  const size_t header_index = in.header_index;
  const std::string& path = file.path();
  const char delimiter = detect_delimiter(file.line(header_index));
  const bool decimal_comma = delimiter != ',';
  const TableSource table = make_table(file, header_index, delimiter);
  const size_t header_line = table.header_line();
  const ColumnMap map = map_columns(table.headers, Kind::Strain, options.columns, path, header_line);
  const ScanColumns cols = find_scan_columns(map, table.headers, path, header_line);
  std::vector<ValueColumn> values = find_value_columns(map, table.headers);

  ImportResult result;
  result.format = "strain-csv";
  result.assumptions.push_back(fmt::format("strain scans, one per row; column names on line {}",
                                           header_line));
  describe_columns(map, table.headers, result.assumptions);
  // describe_columns listed the value columns as skipped; they are not.
  if (!map.unused.empty()) result.assumptions.pop_back();

  const CellContext cx{path, decimal_comma, times};
  const ScanSpans spans = read_scans(file, table, cols, values, cx, result.scans);
  result.rows = result.scans.size();
  place_scans(spans, *cols.start, times, result);
  describe_values(values, cols.number != nullptr, result.assumptions);
  times.finish(result);
  return result;
}

}  // namespace opsync::import
