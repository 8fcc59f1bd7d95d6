// Plain delimited cycler files (CSV, TSV, ';' with decimal comma), Arbin CSV exports, and
// opsync's own CSV export (t_ns,time_utc,<name>[<unit>],...), which must import back exactly.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "import/common/columns.h"
#include "import/common/cycler_table.h"
#include "import/common/delimited.h"
#include "import/readers.h"

namespace opsync::import {
namespace {

bool is_header_role(Role r) {
  return r == Role::Time || r == Role::DateTime || r == Role::TimeNs || r == Role::ScanStart ||
         r == Role::ScanNumber;
}

// Arbin CSV (beep, MITS, Data Watcher): Test_Time plus Data_Point / Step_Index / Cycle_Index.
bool looks_like_arbin(const std::vector<std::string>& headers) {
  bool test_time = false, arbin_index = false;
  for (const std::string& h : headers) {
    const std::string key = name_key(split_header(h).name);
    test_time = test_time || key == "testtime";
    arbin_index = arbin_index || key == "datapoint" || key == "stepindex" || key == "cycleindex";
  }
  return test_time && arbin_index;
}

}  // namespace

size_t find_header_line(const TextFile& file, Kind kind) {
  // The line with the most recognised column names wins, so a preamble such as
  // "Date,2024-01-01" is not taken for the header; it needs a time-like column.
  std::vector<std::string_view> fields;
  std::optional<size_t> first, best;
  size_t best_score = 0;
  const size_t limit = std::min<size_t>(file.line_count(), 60);
  for (size_t i = 0; i < limit; ++i) {
    const std::string_view line = trim(file.line(i));
    if (line.empty() || line.front() == '#') continue;
    if (!first) first = i;
    split_fields(line, detect_delimiter(line), fields);
    if (fields.size() < 2) continue;
    size_t score = 0;
    bool timed = false;
    for (std::string_view f : fields) {
      const Role r = classify_header(f, kind).role;
      if (r == Role::None) continue;
      ++score;
      timed = timed || is_header_role(r);
    }
    if (timed && score > best_score) {
      best = i;
      best_score = score;
    }
  }
  return best.value_or(first.value_or(0));
}

bool looks_like_opsync_csv(const TextFile& file, size_t header_index) {
  std::vector<std::string_view> fields;
  split_fields(file.line(header_index), ',', fields);
  return fields.size() >= 2 && trim(fields[0]) == "t_ns" && trim(fields[1]) == "time_utc";
}

ImportResult read_opsync_csv(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const TextFile& file = *in.text;
  const size_t header_index = in.header_index;
  const std::string& path = file.path();
  if (options.kind == Kind::Strain) {
    throw ImportError(path, header_index + 1, "",
                      "this is an opsync channel export (t_ns,time_utc,...), not strain scans; "
                      "import it as cycler or ms");
  }
  std::vector<std::string_view> fields;
  split_fields(file.line(header_index), ',', fields);
  struct Column {
    size_t index;
    std::string header;
    ChannelData channel;
  };
  std::vector<Column> cols;
  for (size_t i = 2; i < fields.size(); ++i) {
    const std::string_view h = trim(fields[i]);
    if (h.empty()) continue;
    Column c{i, std::string(h), {}};
    // name[unit]: names and units are kept as written (the exporter wrote SI already).
    if (h.back() == ']' && h.find('[') != std::string_view::npos) {
      const size_t open = h.rfind('[');
      c.channel.name = std::string(trim(h.substr(0, open)));
      c.channel.unit = std::string(h.substr(open + 1, h.size() - open - 2));
    } else {
      c.channel.name = std::string(h);
    }
    std::string quantity = c.channel.name;
    if (auto role = role_from_name(c.channel.name)) quantity = channel_spec(*role).quantity;
    c.channel.quantity = quantity;
    cols.push_back(std::move(c));
  }
  const size_t width = fields.size();

  ImportResult result;
  result.format = "opsync-csv";
  result.assumptions.push_back("opsync CSV export: t_ns is exact UTC ns on every row; channel "
                               "names and units kept as written, values not converted");
  std::vector<int64_t> row_t;
  for (size_t li = header_index + 1; li < file.line_count(); ++li) {
    const std::string_view line = file.line(li);
    if (trim(line).empty()) continue;
    split_fields(line, ',', fields);
    if (fields.size() != width) {
      throw ImportError(path, li + 1, "",
                        fmt::format("row has {} fields but the header (line {}) has {}", fields.size(),
                                    header_index + 1, width));
    }
    const std::string_view t_text = trim(fields[0]);
    const auto t = parse_int64(t_text);
    if (!t) {
      throw ImportError(path, li + 1, "t_ns",
                        fmt::format("'{}' is not an integer nanosecond time; every row needs one",
                                    t_text));
    }
    row_t.push_back(*t);
    for (Column& c : cols) {
      // The exporter writes an empty cell for "no sample here" and NaN for a stored NaN.
      const std::string_view cell = trim(fields[c.index]);
      if (cell.empty()) continue;
      double value = std::numeric_limits<double>::quiet_NaN();
      if (cell != "NaN") {
        const Number n = parse_number(cell, false);
        if (n.status != NumberStatus::Ok) {
          throw ImportError(path, li + 1, c.header, fmt::format("'{}' is not a number", cell));
        }
        value = n.value;
      }
      c.channel.t_ns.push_back(*t);
      c.channel.values.push_back(value);
    }
  }
  if (row_t.empty()) {
    throw ImportError(path, header_index + 1, "",
                      "no data rows after the column names; the file holds no measurements");
  }
  result.rows = row_t.size();
  times.place_start(result, StartSource{row_t.front(), false, "column 't_ns' (first row)"});
  if (const auto& start = times.start_override()) {
    const int64_t shift = *start - row_t.front();
    for (Column& c : cols)
      for (int64_t& t : c.channel.t_ns) t += shift;
  }
  for (Column& c : cols) {
    // Step and cycle changes as events, the same way the cycler readers make them.
    if (c.channel.name == "step" || c.channel.name == "cycle") {
      for (size_t i = 1; i < c.channel.values.size(); ++i) {
        const double a = c.channel.values[i - 1], b = c.channel.values[i];
        if (a == b || std::isnan(a) || std::isnan(b)) continue;
        result.events.push_back(EventData{
            c.channel.t_ns[i], c.channel.name + "_change",
            fmt::format("{} {} -> {}", c.channel.name, format_count(c.channel.values[i - 1]),
                        format_count(c.channel.values[i]))});
      }
    }
    result.channels.push_back(std::move(c.channel));
  }
  std::stable_sort(result.events.begin(), result.events.end(),
                   [](const EventData& a, const EventData& b) { return a.t_ns < b.t_ns; });
  if (options.invert_current) {
    for (ChannelData& c : result.channels) {
      if (c.name != "current") continue;
      for (double& v : c.values) v = -v;
      result.assumptions.push_back("current inverted (--invert-current)");
    }
  }
  times.finish(result);
  return result;
}

ImportResult read_generic_csv(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const TextFile& file = *in.text;
  const size_t header_index = in.header_index;
  const char delimiter = detect_delimiter(file.line(header_index));
  TableSource table = make_table(file, header_index, delimiter);
  table.skip_comment_lines = true;
  CyclerRules rules;
  if (looks_like_arbin(table.headers)) {
    rules.format = "arbin-csv";
    rules.notes.push_back(fmt::format("Arbin CSV export, column names on line {}", header_index + 1));
    rules.sign_note = "current sign: Arbin native (+ = charge), kept";
  } else {
    rules.format = "csv";
    rules.notes.push_back(fmt::format("delimited text ('{}'-separated), column names on line {}",
                                      delimiter == '\t' ? std::string("tab") : std::string(1, delimiter),
                                      header_index + 1));
    rules.sign_note = "current sign: assumed charge positive (use --invert-current if the file "
                      "counts discharge as positive)";
  }
  return import_cycler_table(table, options, times, rules);
}

}  // namespace opsync::import
