// Mass-spectrometer data in plain delimited text. Long format: time, mass, ion current per row
// (one channel per distinct mass). Wide format: time plus one ion-current column per mass,
// named like "m32", "M32-O2 [A]", "mass 32", "32" or "ion_current_m32_a".
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "import/common/columns.h"
#include "import/common/delimited.h"
#include "import/readers.h"
#include "import/common/table_reader.h"

namespace opsync::import {
namespace {

struct MassColumn {
  double mass = 0;
  std::string label;  // "O2" from "M32-O2"
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads "32" / "32.5" at the start of s; returns the length read.
size_t read_mass(std::string_view s, double& mass) {
  size_t p = 0;
  while (p < s.size() && is_digit(s[p])) ++p;
  if (p == 0) return 0;
  if (p + 1 < s.size() && s[p] == '.' && is_digit(s[p + 1])) {
    ++p;
    while (p < s.size() && is_digit(s[p])) ++p;
  }
  const Number n = parse_number(s.substr(0, p), false);
  if (n.status != NumberStatus::Ok || n.value <= 0) return 0;
  mass = n.value;
  return p;
}

// Mass in a column name without its unit: "m32", "M32-O2", "mass 32", "32", "ion_current_m32".
std::optional<MassColumn> parse_mass_name(std::string_view name) {
  std::string_view s = trim(name);
  auto strip_prefix = [&](std::string_view prefix) {
    if (s.size() <= prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      char c = s[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    s.remove_prefix(prefix.size());
    while (!s.empty() && (s.front() == ' ' || s.front() == '_')) s.remove_prefix(1);
    return true;
  };
  if (!strip_prefix("ion_current_m") && !strip_prefix("mass") && !strip_prefix("amu") &&
      !strip_prefix("m/z") && !strip_prefix("mz")) {
    strip_prefix("m");
  }
  MassColumn out;
  const size_t used = read_mass(s, out.mass);
  if (used == 0) return std::nullopt;
  std::string_view rest = s.substr(used);
  if (!rest.empty()) {
    if (rest.front() != '-' && rest.front() != '_' && rest.front() != ' ') return std::nullopt;
    out.label = std::string(trim(rest.substr(1)));
  }
  return out;
}

std::string mass_text(double mass) { return format_count(mass); }

std::string ion_quantity(const std::string& label, double mass) {
  const std::string m = mass_text(mass);
  return label.empty() ? fmt::format("ion current (m/z {})", m)
                       : fmt::format("{} ion current (m/z {})", label, m);
}

}  // namespace

ImportResult read_ms_csv(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const TextFile& file = *in.text;
  const size_t header_index = in.header_index;
  const std::string& path = file.path();
  const char delimiter = detect_delimiter(file.line(header_index));
  TableSource table = make_table(file, header_index, delimiter);
  table.skip_comment_lines = true;
  ColumnMap map = map_columns(table.headers, Kind::Ms, options.columns, path, table.header_line());
  if (!map.get(Role::Time) && !map.get(Role::DateTime) && !map.get(Role::TimeNs)) {
    throw ImportError(path, table.header_line(), "",
                      fmt::format("no time column found among the headers {}; name it with "
                                  "--columns time=HEADER",
                                  list_headers(table.headers)));
  }
  ImportResult result;
  result.format = "ms-csv";
  const bool long_format = map.get(Role::Mass) != nullptr;
  std::map<size_t, MassColumn> wide;  // column index -> mass, for the wide format
  if (long_format) {
    if (!map.get(Role::IonCurrent)) {
      throw ImportError(path, table.header_line(), "",
                        fmt::format("long-format MS file has a mass column but no ion current "
                                    "column among {}; name it with --columns ion_current=HEADER",
                                    list_headers(table.headers)));
    }
    result.assumptions.push_back(fmt::format("MS CSV, long format: one channel per distinct value "
                                             "of column '{}'",
                                             map.get(Role::Mass)->header));
  } else {
    // Without a mass column, a lone "current"/"intensity" column has no mass: not ours.
    std::erase_if(map.columns, [&](const MappedColumn& c) {
      if (c.info.role != Role::IonCurrent) return false;
      map.unused.push_back(c.index);
      return true;
    });
    std::sort(map.unused.begin(), map.unused.end());
    std::vector<size_t> still_unused;
    for (size_t idx : map.unused) {
      const std::string& h = table.headers[idx];
      HeaderParts parts = split_header(h);
      const bool bracketed = !h.empty() && (h.back() == ']' || h.back() == ')');
      if (!bracketed && !parts.unit.empty() && !unit_for_role(Role::IonCurrent, parts.unit).unit_known) {
        // "M28-CO/N2" was split at '/': the whole header is the name.
        parts = HeaderParts{h, ""};
      }
      const auto mass = parse_mass_name(parts.name);
      if (!mass) {
        still_unused.push_back(idx);
        continue;
      }
      HeaderInfo info = unit_for_role(Role::IonCurrent, parts.unit);
      if (!info.unit_known) {
        throw ImportError(path, table.header_line(), h,
                          fmt::format("unit '{}' of column '{}' is not an ion current unit; "
                                      "expected A, mA, nA or pA",
                                      parts.unit, h));
      }
      map.columns.push_back(MappedColumn{idx, h, info, false});
      wide[idx] = *mass;
    }
    map.unused = still_unused;
    if (wide.empty()) {
      throw ImportError(path, table.header_line(), "",
                        fmt::format("no ion current columns found among {}; expected a mass "
                                    "column (mass, m/z) with an ion current column, or one column "
                                    "per mass such as m32, 'M32-O2 [A]', 'mass 32'",
                                    list_headers(table.headers)));
    }
    result.assumptions.push_back("MS CSV, wide format: one ion current column per mass");
  }
  describe_columns(map, table.headers, result.assumptions);

  RowData rows = read_rows(table, map, times);
  if (rows.line.empty()) {
    throw ImportError(path, table.header_line(), "",
                      "no data rows after the column names; the file holds no measurements");
  }
  for (const std::string& n : rows.notes) result.assumptions.push_back(n);
  result.rows = rows.line.size();
  const std::vector<int64_t> t = place_rows(rows, times, std::nullopt, result);

  if (long_format) {
    const std::vector<double>* mass = nullptr;
    const std::vector<double>* current = nullptr;
    for (size_t k = 0; k < rows.value_columns.size(); ++k) {
      if (rows.value_columns[k]->info.role == Role::Mass) mass = &rows.values[k];
      if (rows.value_columns[k]->info.role == Role::IonCurrent) current = &rows.values[k];
    }
    std::map<double, ChannelData> by_mass;
    for (size_t i = 0; i < t.size(); ++i) {
      const double m = (*mass)[i], v = (*current)[i];
      if (std::isnan(m) || std::isnan(v)) continue;
      ChannelData& ch = by_mass[m];
      if (ch.name.empty()) {
        ch.name = fmt::format("ion_current_m{}", mass_text(m));
        ch.unit = "A";
        ch.quantity = ion_quantity("", m);
      }
      ch.t_ns.push_back(t[i]);
      ch.values.push_back(v);
    }
    for (auto& [m, ch] : by_mass) result.channels.push_back(std::move(ch));
  } else {
    std::map<std::string, int> seen;
    for (size_t k = 0; k < rows.value_columns.size(); ++k) {
      const auto it = wide.find(rows.value_columns[k]->index);
      if (it == wide.end()) continue;
      const MassColumn& mc = it->second;
      ChannelData ch;
      ch.name = fmt::format("ion_current_m{}", mass_text(mc.mass));
      if (int n = ++seen[ch.name]; n > 1) ch.name += fmt::format("_{}", n);  // same mass twice
      ch.unit = "A";
      ch.quantity = ion_quantity(mc.label, mc.mass);
      for (size_t i = 0; i < t.size(); ++i) {
        if (std::isnan(rows.values[k][i])) continue;
        ch.t_ns.push_back(t[i]);
        ch.values.push_back(rows.values[k][i]);
      }
      result.channels.push_back(std::move(ch));
    }
  }
  times.finish(result);
  return result;
}

}  // namespace opsync::import
