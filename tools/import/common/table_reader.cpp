// Row loop for delimited tables: field-count checks, time and value parsing, SI scaling.
#include "import/common/table_reader.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "import/common/date_text.h"
#include "import/common/delimited.h"

namespace opsync::import {
namespace {

enum class TimeForm { Unknown, Number, Elapsed, DateText };

// Absolute time cell -> UTC ns. Numbers are Unix seconds (or the header's ns/ms), or OLE
// automation days (Excel/Arbin, naive local time); text is a date-time.
std::optional<AbsTime> parse_abs_cell(std::string_view cell, const HeaderInfo& info, bool decimal_comma,
                                      TimeContext& times) {
  const std::string_view t = trim(cell);
  const bool numeric_start = !t.empty() && ((t[0] >= '0' && t[0] <= '9') || t[0] == '-' || t[0] == '+');
  if (numeric_start) {
    const Number n = parse_number(t, decimal_comma);
    if (n.status == NumberStatus::Ok) {
      if (info.unit_stated && info.time_ns_per_unit == 1.0L) {
        if (auto v = parse_int64(t)) return AbsTime{*v, false};
        return std::nullopt;
      }
      if (info.unit_stated && info.time_ns_per_unit == 1e6L) {
        if (auto v = parse_scaled_ns(t, 1e6L, decimal_comma)) return AbsTime{*v, false};
        return std::nullopt;
      }
      if (n.value >= 1e8 && n.value < 1e10) {  // Unix seconds (1973..2286)
        if (auto v = parse_seconds_ns(t, decimal_comma)) return AbsTime{*v, false};
        return std::nullopt;
      }
      if (n.value >= 1e11 && n.value < 1e13) {  // Unix milliseconds
        if (auto v = parse_scaled_ns(t, 1e6L, decimal_comma)) return AbsTime{*v, false};
        return std::nullopt;
      }
      if (n.value > 1e4 && n.value < 1e5) {  // OLE automation date: days since 1899-12-30, local
        const auto local_ns = parse_scaled_ns(t, 86400e9L, decimal_comma);
        if (!local_ns) return std::nullopt;
        const int64_t unix_local = *local_ns - int64_t{25569} * 86400 * kNsPerS;
        return AbsTime{times.local_to_utc_ns(ns_to_civil(unix_local)), true};
      }
      return std::nullopt;
    }
  }
  if (auto p = parse_date_time_text(t)) return times.resolve(*p);
  return std::nullopt;
}

// The time columns read_rows uses: a relative one and an absolute one (the exact integer t_ns
// column, or else a date-time column).
struct TimeColumns {
  const MappedColumn* time_col = nullptr;
  const MappedColumn* abs_col = nullptr;
  bool abs_is_ns = false;
};

// The exact integer column wins over every other time column; the ones it overrides are noted.
TimeColumns choose_time_columns(const ColumnMap& map, std::vector<std::string>& notes) {
  TimeColumns cols{map.get(Role::Time), map.get(Role::TimeNs), false};
  cols.abs_is_ns = cols.abs_col != nullptr;
  if (cols.abs_col) {
    if (cols.time_col) notes.push_back(fmt::format("column '{}' ignored: t_ns is used", cols.time_col->header));
    if (const MappedColumn* dt = map.get(Role::DateTime))
      notes.push_back(fmt::format("column '{}' ignored: t_ns is used", dt->header));
    cols.time_col = nullptr;
  } else {
    cols.abs_col = map.get(Role::DateTime);
  }
  return cols;
}

// What parsing a row's cells needs besides the cells: errors name the file and line, numbers may
// use a decimal comma, date-times are resolved in the assumed zone.
struct RowContext {
  const std::string& path;
  size_t line_no;
  bool decimal_comma;
  TimeContext& times;
};

// A row's times as read: relative ns, and absolute UTC ns (kNoTime when the row has none).
struct RowTime {
  int64_t rel = 0;
  int64_t abs = kNoTime;
};

// A row of empty fields (only delimiters) is skipped like a blank line.
bool all_fields_empty(const std::vector<std::string_view>& fields) {
  bool all_empty = true;
  for (std::string_view f : fields) all_empty = all_empty && trim(f).empty();
  return all_empty;
}

// A row needs a field for every named column and no more fields than the header, except empty
// ones after it (a trailing delimiter); anything else means a shifted row, so it is refused.
void check_field_count(const std::vector<std::string_view>& fields, size_t min_fields, size_t max_fields,
                       const TableSource& src, const std::string& path, size_t line_no) {
  if (fields.size() >= min_fields && fields.size() <= max_fields) return;
  bool extras_empty = fields.size() > max_fields;
  for (size_t k = max_fields; k < fields.size() && extras_empty; ++k)
    extras_empty = trim(fields[k]).empty();
  if (!extras_empty) {
    throw ImportError(
        path, line_no, "",
        fmt::format("row has {} fields but the header (line {}) has {}; a cell is missing or "
                    "extra, or the delimiter '{}' appears inside a value (quote such values)",
                    fields.size(), src.header_line(), min_fields,
                    src.delimiter == '\t' ? std::string("\\t") : std::string(1, src.delimiter)));
  }
}

// The relative time cell (trimmed). Its form (a number, elapsed text, or a date-time) is set by
// the first row and then required of every row; a "time" column of date-times gives absolute
// times instead. Notes the form when it is not a plain number.
void read_time_cell(std::string_view cell, const MappedColumn& time_col, TimeForm& form, RowTime& time,
                    RowData& out, const RowContext& cx) {
  if (is_missing_text(cell)) {
    throw ImportError(cx.path, cx.line_no, time_col.header,
                      fmt::format("time is missing ('{}'); every row needs a time", cell));
  }
  std::optional<int64_t> ns;
  if (form != TimeForm::DateText) {
    if (form != TimeForm::Elapsed) {
      ns = time_col.info.time_ns_per_unit == 1e9L
               ? parse_seconds_ns(cell, cx.decimal_comma)
               : parse_scaled_ns(cell, time_col.info.time_ns_per_unit, cx.decimal_comma);
      if (ns && form == TimeForm::Unknown) form = TimeForm::Number;
    }
    if (!ns && form != TimeForm::Number) {
      ns = parse_elapsed_ns(cell);
      if (ns && form == TimeForm::Unknown) {
        form = TimeForm::Elapsed;
        out.notes.push_back(fmt::format("column '{}' holds elapsed-time text (d HH:MM:SS)",
                                        time_col.header));
      }
    }
  }
  if (!ns && (form == TimeForm::Unknown || form == TimeForm::DateText)) {
    // A "time" column holding date-times is an absolute time column.
    if (auto p = parse_date_time_text(cell)) {
      if (form == TimeForm::Unknown) {
        form = TimeForm::DateText;
        out.notes.push_back(fmt::format("column '{}' holds date-times: used as absolute time",
                                        time_col.header));
      }
      const AbsTime a = cx.times.resolve(*p);
      time.abs = a.utc_ns;
      out.abs_naive = out.abs_naive || a.naive;
    }
  }
  if (form == TimeForm::DateText) {
    if (time.abs == kNoTime) {
      throw ImportError(cx.path, cx.line_no, time_col.header,
                        fmt::format("'{}' is not a date-time like the rows above", cell));
    }
  } else if (!ns) {
    throw ImportError(cx.path, cx.line_no, time_col.header,
                      fmt::format("'{}' is not a time: expected a number ({}) or elapsed "
                                  "text 'Nd HH:MM:SS'",
                                  cell, time_col.info.unit));
  } else {
    time.rel = *ns;
  }
}

// The absolute time cell (trimmed): integer ns for t_ns, else whatever parse_abs_cell reads. It
// may be empty when the row has a relative time.
void read_abs_cell(std::string_view cell, const TimeColumns& cols, RowTime& time, RowData& out,
                   const RowContext& cx) {
  const MappedColumn& abs_col = *cols.abs_col;
  if (!is_missing_text(cell)) {
    if (cols.abs_is_ns) {
      const auto v = parse_int64(cell);
      if (!v) {
        throw ImportError(cx.path, cx.line_no, abs_col.header,
                          fmt::format("'{}' is not an integer nanosecond time", cell));
      }
      time.abs = *v;
    } else {
      const auto a = parse_abs_cell(cell, abs_col.info, cx.decimal_comma, cx.times);
      if (!a) {
        throw ImportError(cx.path, cx.line_no, abs_col.header,
                          fmt::format("'{}' is not a date-time (expected ISO 8601, "
                                      "MM/DD/YYYY HH:MM:SS[.fff] [AM/PM] or Unix seconds)",
                                      cell));
      }
      time.abs = a->utc_ns;
      out.abs_naive = out.abs_naive || a->naive;
    }
  } else if (!cols.time_col) {
    throw ImportError(cx.path, cx.line_no, abs_col.header,
                      fmt::format("time is missing ('{}'); every row needs a time", cell));
  }
}

// A row's state letter (uppercase, 0 when empty) and its values in SI; an empty or missing-text
// value cell is NaN, anything else that is not a number is refused.
void read_row_values(const std::vector<std::string_view>& fields, const MappedColumn* state_col, RowData& out,
                     const RowContext& cx) {
  if (state_col) {
    const std::string_view s = trim(fields[state_col->index]);
    const char c = s.empty() ? '\0' : s.front();
    out.state.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  for (size_t k = 0; k < out.value_columns.size(); ++k) {
    const MappedColumn& c = *out.value_columns[k];
    const Number n = parse_number(fields[c.index], cx.decimal_comma);
    if (n.status == NumberStatus::Invalid) {
      throw ImportError(cx.path, cx.line_no, c.header,
                        fmt::format("'{}' is not a number; fix the cell, or map another column "
                                    "with --columns {}=HEADER",
                                    trim(fields[c.index]), role_name(c.info.role)));
    }
    out.values[k].push_back(n.status == NumberStatus::Ok ? n.value * c.info.scale
                                                         : std::numeric_limits<double>::quiet_NaN());
  }
}

}  // namespace

bool is_numeric_role(Role r) {
  switch (r) {
    case Role::Voltage:
    case Role::Current:
    case Role::Capacity:
    case Role::ChargeCapacity:
    case Role::DischargeCapacity:
    case Role::Energy:
    case Role::ChargeEnergy:
    case Role::DischargeEnergy:
    case Role::Step:
    case Role::Cycle:
    case Role::Dq:
    case Role::Mass:
    case Role::IonCurrent:
      return true;
    default:
      return false;
  }
}

TableSource make_table(const TextFile& file, size_t header_index, char delimiter) {
  TableSource s;
  s.file = &file;
  s.header_index = header_index;
  s.data_begin = header_index + 1;
  s.data_end = file.line_count();
  s.delimiter = delimiter;
  std::vector<std::string_view> fields;
  split_fields(file.line(header_index), delimiter, fields);
  for (std::string_view f : fields) s.headers.emplace_back(trim(f));
  return s;
}

ChannelSpec channel_spec(Role role) {
  switch (role) {
    case Role::Voltage: return {"voltage", "V", "cell voltage"};
    case Role::Current: return {"current", "A", "current (charge positive)"};
    case Role::Capacity: return {"capacity", "C", "capacity"};
    case Role::ChargeCapacity: return {"charge_capacity", "C", "charge capacity"};
    case Role::DischargeCapacity: return {"discharge_capacity", "C", "discharge capacity"};
    case Role::Energy: return {"energy", "J", "energy"};
    case Role::ChargeEnergy: return {"charge_energy", "J", "charge energy"};
    case Role::DischargeEnergy: return {"discharge_energy", "J", "discharge energy"};
    case Role::Step: return {"step", "", "step index"};
    case Role::Cycle: return {"cycle", "", "cycle index"};
    default: return {std::string(role_name(role)), "", std::string(role_name(role))};
  }
}

std::vector<int64_t> place_rows(const RowData& rows, const TimeContext& times,
                                const std::optional<StartSource>& header_start,
                                ImportResult& result) {
  const size_t n = rows.line.size();
  std::vector<int64_t> t(n);
  const std::string abs_header = rows.abs_column ? rows.abs_column->header : std::string();
  if (rows.has_rel) {
    std::optional<StartSource> start;
    if (rows.has_abs) {
      for (size_t i = 0; i < n && !start; ++i) {
        if (rows.abs_ns[i] == kNoTime) continue;
        start = StartSource{rows.abs_ns[i] - rows.rel_ns[i], rows.abs_naive,
                            fmt::format("column '{}' (its date-time on line {} minus the "
                                        "relative time there)",
                                        abs_header, rows.line[i])};
      }
    }
    if (!start) start = header_start;
    times.place_start(result, start);
    for (size_t i = 0; i < n; ++i) t[i] = result.start_ns + rows.rel_ns[i];
    if (rows.has_abs && !times.start_override()) {
      // Both clocks should agree; say so when they do not (paused test, minutes not seconds).
      // Wall clocks drift a few seconds a day against test time, so allow 0.1 % of the span.
      int64_t worst = 0;
      for (size_t i = 0; i < n; ++i)
        if (rows.abs_ns[i] != kNoTime) {
          const int64_t d = rows.abs_ns[i] - t[i];
          worst = std::max(worst, d < 0 ? -d : d);
        }
      const int64_t span = n > 1 ? std::max(t[n - 1] - t[0], t[0] - t[n - 1]) : 0;
      if (worst > std::max<int64_t>(2 * kNsPerS, span / 1000)) {
        result.assumptions.push_back(fmt::format(
            "column '{}' disagrees with the relative time by up to {:.3f} s; the relative time "
            "is used (check the time unit, or map another column with --columns time=HEADER)",
            abs_header, static_cast<double>(worst) / 1e9));
      }
    }
    return t;
  }
  int64_t first = kNoTime;
  for (size_t i = 0; i < n && first == kNoTime; ++i) first = rows.abs_ns[i];
  times.place_start(result, StartSource{first, rows.abs_naive,
                                        fmt::format("column '{}' (absolute time on every row)",
                                                    abs_header)});
  const int64_t shift = times.start_override() ? *times.start_override() - first : 0;
  for (size_t i = 0; i < n; ++i) t[i] = rows.abs_ns[i] + shift;
  return t;
}

std::string format_count(double v) {
  if (std::fabs(v) < 9e15 && v == std::floor(v)) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:g}", v);
}

RowData read_rows(const TableSource& src, const ColumnMap& map, TimeContext& times) {
  const TextFile& file = *src.file;
  const std::string& path = file.path();
  const bool decimal_comma = src.delimiter != ',';
  RowData out;

  const TimeColumns cols = choose_time_columns(map, out.notes);
  const MappedColumn* state_col = map.get(Role::State);
  for (const MappedColumn& c : map.columns)
    if (is_numeric_role(c.info.role)) out.value_columns.push_back(&c);
  out.values.resize(out.value_columns.size());
  out.has_rel = cols.time_col != nullptr;
  out.has_abs = cols.abs_col != nullptr;
  out.abs_column = cols.abs_col;

  size_t min_fields = 0;
  for (size_t i = 0; i < src.headers.size(); ++i)
    if (!src.headers[i].empty()) min_fields = i + 1;
  const size_t max_fields = src.headers.size();

  TimeForm form = TimeForm::Unknown;
  std::vector<std::string_view> fields;
  fields.reserve(max_fields + 4);
  size_t rows = 0;
  for (size_t li = src.data_begin; li < src.data_end && rows < src.max_rows; ++li) {
    const std::string_view line = file.line(li);
    const std::string_view tl = trim(line);
    if (tl.empty()) continue;
    if (src.skip_comment_lines && tl.front() == '#') continue;
    const size_t line_no = li + 1;
    split_fields(line, src.delimiter, fields);
    if (all_fields_empty(fields)) continue;
    check_field_count(fields, min_fields, max_fields, src, path, line_no);

    const RowContext cx{path, line_no, decimal_comma, times};
    RowTime time;
    if (cols.time_col) read_time_cell(trim(fields[cols.time_col->index]), *cols.time_col, form, time, out, cx);
    if (cols.abs_col && form != TimeForm::DateText)
      read_abs_cell(trim(fields[cols.abs_col->index]), cols, time, out, cx);

    out.line.push_back(line_no);
    if (out.has_rel) out.rel_ns.push_back(time.rel);
    if (out.has_abs || form == TimeForm::DateText) out.abs_ns.push_back(time.abs);
    read_row_values(fields, state_col, out, cx);
    ++rows;
  }
  if (form == TimeForm::DateText) {
    // The time column turned out to be absolute: there is no relative time.
    out.has_rel = false;
    out.rel_ns.clear();
    out.has_abs = true;
    out.abs_column = cols.time_col;
  }
  return out;
}

}  // namespace opsync::import
