// Cycler table -> channels (SI), events and assumptions; shared by all tabular cycler formats.
#include "import/common/cycler_table.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace opsync::import {
namespace {

bool has_time(const ColumnMap& m) {
  return m.get(Role::Time) || m.get(Role::DateTime) || m.get(Role::TimeNs);
}

// Channel order in the result: the quantities users look at first.
constexpr Role kChannelOrder[] = {Role::Voltage,        Role::Current,        Role::Capacity,
                                  Role::ChargeCapacity, Role::DischargeCapacity, Role::Energy,
                                  Role::ChargeEnergy,   Role::DischargeEnergy, Role::Step,
                                  Role::Cycle};

}  // namespace

void check_cycler_columns(ColumnMap& map, const std::vector<std::string>& headers,
                          const std::string& path, size_t header_line, const CyclerRules& rules) {
  // dq only serves to derive a missing current; otherwise it is just another skipped column.
  if (map.get(Role::Dq) && (!rules.derive_current_from_dq || map.get(Role::Current))) {
    std::erase_if(map.columns, [&](const MappedColumn& c) {
      if (c.info.role != Role::Dq) return false;
      map.unused.insert(std::lower_bound(map.unused.begin(), map.unused.end(), c.index), c.index);
      return true;
    });
  }
  if (!has_time(map)) {
    throw ImportError(path, header_line, "",
                      fmt::format("no time column found among the headers {}; name it with "
                                  "--columns time=HEADER (relative seconds; min/h from the header "
                                  "unit) or --columns datetime=HEADER (absolute)",
                                  list_headers(headers)));
  }
  const bool can_derive = rules.derive_current_from_dq && map.get(Role::Dq);
  if (!map.get(Role::Voltage) && !map.is_disabled(Role::Voltage)) {
    throw ImportError(path, header_line, "",
                      fmt::format("no voltage column found among the headers {}; name it with "
                                  "--columns voltage=HEADER (or voltage=none if the file has none)",
                                  list_headers(headers)));
  }
  if (!map.get(Role::Current) && !can_derive && !map.is_disabled(Role::Current)) {
    throw ImportError(path, header_line, "",
                      fmt::format("no current column found among the headers {}; name it with "
                                  "--columns current=HEADER (or current=none if the file has none)",
                                  list_headers(headers)));
  }
}

ImportResult import_cycler_table(const TableSource& src, const ImportOptions& options,
                                 TimeContext& times, const CyclerRules& rules) {
  const std::string& path = src.file->path();
  ColumnMap map = map_columns(src.headers, Kind::Cycler, options.columns, path, src.header_line());
  check_cycler_columns(map, src.headers, path, src.header_line(), rules);
  RowData rows = read_rows(src, map, times);
  if (rows.line.empty()) {
    throw ImportError(path, src.header_line(), "",
                      "no data rows after the column names; the file holds no measurements");
  }
  return cycler_result_from_rows(map, src.headers, std::move(rows), options, times, rules);
}

ImportResult cycler_result_from_rows(const ColumnMap& map, const std::vector<std::string>& headers,
                                     RowData rows, const ImportOptions& options, TimeContext& times,
                                     const CyclerRules& rules) {
  const bool can_derive = rules.derive_current_from_dq && map.get(Role::Dq);
  ImportResult result;
  result.format = rules.format;
  result.rows = rows.line.size();
  for (const std::string& n : rules.notes) result.assumptions.push_back(n);
  describe_columns(map, headers, result.assumptions);
  for (const std::string& n : rows.notes) result.assumptions.push_back(n);
  const std::vector<int64_t> t = place_rows(rows, times, rules.header_start, result);
  const size_t n = t.size();

  std::map<Role, std::vector<double>*> by_role;
  for (size_t k = 0; k < rows.value_columns.size(); ++k)
    by_role[rows.value_columns[k]->info.role] = &rows.values[k];

  // Current: sign from Maccor's State, or derived from dq, then the user's inversion.
  std::vector<double> derived;
  if (auto it = by_role.find(Role::Current); it != by_role.end()) {
    if (rules.sign_from_state && !rows.state.empty()) {
      std::map<char, size_t> other_states;
      std::vector<double>& cur = *it->second;
      for (size_t i = 0; i < n; ++i) {
        const char s = rows.state[i];
        if (std::isnan(cur[i])) continue;
        if (s == 'C') {
          cur[i] = std::fabs(cur[i]);
        } else if (s == 'D') {
          cur[i] = -std::fabs(cur[i]);
        } else {
          if (s != 'R' && s != 'O') ++other_states[s];
          cur[i] = 0.0;
        }
      }
      result.assumptions.push_back(
          fmt::format("current sign from column '{}': +|I| for C (charge), -|I| for D "
                      "(discharge), 0 for other states (rest R, other O)",
                      map.get(Role::State)->header));
      for (const auto& [s, count] : other_states) {
        result.assumptions.push_back(fmt::format(
            "state '{}' on {} row(s) is not C/D/R/O: current set to 0 there", s ? std::string(1, s) : "",
            count));
      }
    } else if (rules.sign_from_state) {
      result.assumptions.push_back("no State column: the current column is taken as signed, "
                                   "charge positive");
    } else {
      result.assumptions.push_back(rules.sign_note);
    }
  } else if (can_derive && !map.is_disabled(Role::Current)) {
    const std::vector<double>& dq_c = *by_role.at(Role::Dq);
    derived.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const double dt_s = i == 0 ? 0.0 : static_cast<double>(t[i] - t[i - 1]) / 1e9;
      derived[i] = dt_s > 0 ? dq_c[i] / dt_s : 0.0;
      if (std::isnan(dq_c[i])) derived[i] = std::nan("");
    }
    by_role[Role::Current] = &derived;
    result.assumptions.push_back(fmt::format(
        "no current column: current derived as I = dq / dt from column '{}' (first row 0, and 0 "
        "where dt <= 0), as EC-Lab's own text export does",
        map.get(Role::Dq)->header));
    result.assumptions.push_back(rules.sign_note);
  }
  if (options.invert_current) {
    if (auto it = by_role.find(Role::Current); it != by_role.end()) {
      for (double& v : *it->second) v = -v;
      result.assumptions.push_back("current inverted (--invert-current): the file's positive "
                                   "direction is taken as discharge");
    }
  }
  if (!rules.capacity_note.empty() && by_role.count(Role::Capacity))
    result.assumptions.push_back(rules.capacity_note);

  for (Role role : kChannelOrder) {
    auto it = by_role.find(role);
    if (it == by_role.end()) continue;
    const std::vector<double>& v = *it->second;
    ChannelSpec spec = channel_spec(role);
    ChannelData ch{spec.name, spec.unit, spec.quantity, {}, {}};
    ch.t_ns.reserve(n);
    ch.values.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(v[i])) continue;
      ch.t_ns.push_back(t[i]);
      ch.values.push_back(v[i]);
    }
    result.channels.push_back(std::move(ch));
  }

  // Events where the step or cycle number changes between consecutive rows that have one.
  const std::vector<double>* step = by_role.count(Role::Step) ? by_role[Role::Step] : nullptr;
  const std::vector<double>* cycle = by_role.count(Role::Cycle) ? by_role[Role::Cycle] : nullptr;
  double prev_step = std::nan(""), prev_cycle = std::nan("");
  for (size_t i = 0; i < n; ++i) {
    if (step && !std::isnan((*step)[i])) {
      const double s = (*step)[i];
      if (!std::isnan(prev_step) && s != prev_step) {
        result.events.push_back(EventData{
            t[i], "step_change", fmt::format("step {} -> {}", format_count(prev_step), format_count(s))});
      }
      prev_step = s;
    }
    if (cycle && !std::isnan((*cycle)[i])) {
      const double c = (*cycle)[i];
      if (!std::isnan(prev_cycle) && c != prev_cycle) {
        result.events.push_back(EventData{t[i], "cycle_change",
                                          fmt::format("cycle {} -> {}", format_count(prev_cycle),
                                                      format_count(c))});
      }
      prev_cycle = c;
    }
  }

  times.finish(result);
  return result;
}

}  // namespace opsync::import
