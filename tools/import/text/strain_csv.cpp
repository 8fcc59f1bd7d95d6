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
  const MappedColumn* number_col = map.get(Role::ScanNumber);
  const MappedColumn* start_col = map.get(Role::ScanStart);
  const MappedColumn* end_col = map.get(Role::ScanEnd);
  const MappedColumn* label_col = map.get(Role::Label);
  if (!start_col || !end_col) {
    throw ImportError(path, header_line, "",
                      fmt::format("no scan {} column found among the headers {}; strain files need "
                                  "start and end per scan: name them with --columns start=HEADER "
                                  "and --columns end=HEADER",
                                  !start_col ? "start" : "end", list_headers(table.headers)));
  }

  // Value columns: numeric or not is decided by the first non-empty cell.
  struct ValueColumn {
    size_t index;
    std::string header;
    std::string name;
    std::string unit;
    int numeric = -1;  // -1 undecided, 0 text (skipped), 1 numeric
  };
  std::vector<ValueColumn> values;
  for (size_t idx : map.unused) {
    HeaderParts p = value_name_unit(table.headers[idx]);
    values.push_back(ValueColumn{idx, table.headers[idx], p.name, p.unit, -1});
  }

  ImportResult result;
  result.format = "strain-csv";
  result.assumptions.push_back(fmt::format("strain scans, one per row; column names on line {}",
                                           header_line));
  describe_columns(map, table.headers, result.assumptions);
  // describe_columns listed the value columns as skipped; they are not.
  if (!map.unused.empty()) result.assumptions.pop_back();

  auto read_time = [&](std::string_view cell, const MappedColumn& col, size_t line_no) -> ScanTime {
    const std::string_view s = trim(cell);
    if (is_missing_text(s)) {
      throw ImportError(path, line_no, col.header,
                        fmt::format("scan {} time is missing ('{}')", role_name(col.info.role), s));
    }
    if (col.info.unit_stated && col.info.time_ns_per_unit == 1.0L) {  // start_ns / end_ns
      if (auto v = parse_int64(s)) return {*v, true};
      throw ImportError(path, line_no, col.header,
                        fmt::format("'{}' is not an integer nanosecond time", s));
    }
    const auto rel = col.info.time_ns_per_unit == 1e9L
                         ? parse_seconds_ns(s, decimal_comma)
                         : parse_scaled_ns(s, col.info.time_ns_per_unit, decimal_comma);
    if (rel) return {*rel, false};
    if (auto p = parse_date_time_text(s)) {
      const AbsTime a = times.resolve(*p);
      return {a.utc_ns, true, a.naive};
    }
    throw ImportError(path, line_no, col.header,
                      fmt::format("'{}' is not a time: expected seconds ({}) or an ISO 8601 "
                                  "date-time",
                                  s, col.info.unit));
  };

  std::vector<std::string_view> fields;
  size_t min_fields = 0;
  for (size_t i = 0; i < table.headers.size(); ++i)
    if (!table.headers[i].empty()) min_fields = i + 1;
  bool any_abs = false, any_rel = false, any_naive = false;
  std::vector<std::pair<ScanTime, ScanTime>> spans;
  for (size_t li = table.data_begin; li < file.line_count(); ++li) {
    const std::string_view line = file.line(li);
    const std::string_view tl = trim(line);
    if (tl.empty() || tl.front() == '#') continue;
    const size_t line_no = li + 1;
    split_fields(line, delimiter, fields);
    if (fields.size() < min_fields || fields.size() > table.headers.size()) {
      throw ImportError(path, line_no, "",
                        fmt::format("row has {} fields but the header (line {}) has {}",
                                    fields.size(), header_line, min_fields));
    }
    ScanData scan;
    if (number_col) {
      const Number n = parse_number(fields[number_col->index], decimal_comma);
      if (n.status != NumberStatus::Ok || n.value != std::floor(n.value)) {
        throw ImportError(path, line_no, number_col->header,
                          fmt::format("'{}' is not a scan number (a whole number)",
                                      trim(fields[number_col->index])));
      }
      scan.number = static_cast<int64_t>(n.value);
    } else {
      scan.number = static_cast<int64_t>(result.scans.size()) + 1;
    }
    const ScanTime start = read_time(fields[start_col->index], *start_col, line_no);
    const ScanTime end = read_time(fields[end_col->index], *end_col, line_no);
    if (start.absolute != end.absolute) {
      throw ImportError(path, line_no, end_col->header,
                        "scan start and end mix an absolute date-time and relative seconds; use "
                        "one kind for both");
    }
    if (end.ns < start.ns) {
      throw ImportError(path, line_no, end_col->header,
                        "scan ends before it starts; check the start and end columns");
    }
    (start.absolute ? any_abs : any_rel) = true;
    any_naive = any_naive || start.naive || end.naive;
    if (label_col) scan.label = std::string(trim(fields[label_col->index]));
    for (ValueColumn& v : values) {
      const std::string_view cell = trim(fields[v.index]);
      if (is_missing_text(cell) || v.numeric == 0) continue;
      const Number n = parse_number(cell, decimal_comma);
      if (v.numeric == -1) v.numeric = n.status == NumberStatus::Ok ? 1 : 0;
      if (v.numeric == 0) continue;
      if (n.status == NumberStatus::Invalid) {
        throw ImportError(path, line_no, v.header, fmt::format("'{}' is not a number", cell));
      }
      scan.values.emplace_back(v.name, n.value);
      scan.value_units.push_back(v.unit);
    }
    spans.emplace_back(start, end);
    result.scans.push_back(std::move(scan));
  }
  if (result.scans.empty()) {
    throw ImportError(path, header_line, "", "no scan rows after the column names");
  }
  if (any_abs && any_rel) {
    throw ImportError(path, header_line, start_col->header,
                      "some scans have absolute date-times and others relative seconds; use one "
                      "kind throughout");
  }
  result.rows = result.scans.size();
  if (any_abs) {
    const int64_t first = spans.front().first.ns;
    times.place_start(result, StartSource{first, any_naive, fmt::format("column '{}' (absolute times)",
                                                                  start_col->header)});
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
    result.assumptions.push_back(fmt::format("per-scan values (units as written in the header): {}", list));
  }
  if (!text.empty()) {
    result.assumptions.push_back(fmt::format("skipped {} non-numeric column(s): {}", text.size(),
                                             list_headers(text, 20)));
  }
  if (!number_col) result.assumptions.push_back("no scan number column: scans numbered 1, 2, ... in file order");
  times.finish(result);
  return result;
}

}  // namespace opsync::import
