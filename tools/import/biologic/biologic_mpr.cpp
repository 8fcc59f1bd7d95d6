// .mpr -> ImportResult: the decoded columns get the names the .mpt export gives them, so the
// column recognition, current derivation, events and assumption lines are those of the text
// reader (cycler_table). The few columns that only the text export has, and that opsync maps to
// channels (<I>/mA, Q charge, Q discharge, Capacity, cycle number), are derived here the way
// EC-Lab derives them.
#include "import/biologic/biologic_mpr.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/time_format.h"
#include "import/biologic/biologic_mpr_file.h"
#include "import/common/columns.h"
#include "import/common/cycler_table.h"
#include "import/common/table_reader.h"

namespace opsync::import {
namespace {

// OLE automation dates count days from 1899-12-30; the Unix epoch is day 25569.
constexpr long double kOleUnixEpochDays = 25569.0L;
constexpr long double kNsPerDay = 86400.0L * 1e9L;
constexpr int64_t kNsPerMs = 1'000'000;

// A column as the importer sees it: the .mpt header name and one value per record.
struct NamedColumn {
  std::string header;
  const std::vector<double>* values = nullptr;
};

// A copy, not a pointer into `cols`: adding a column moves the vector. `values` stays valid (it
// points into the DataTable or the deque of derived columns).
std::optional<NamedColumn> find_named(const std::vector<NamedColumn>& cols, std::string_view header) {
  for (const NamedColumn& c : cols)
    if (c.header == header) return c;
  return std::nullopt;
}

// Columns the text export adds from stored ones and that map to opsync channels: without them
// the .mpr would give fewer channels and events than the .mpt of the same run. The rules
// reproduce the export exactly on the fixture pair (2533 rows); other techniques are unchecked.
void add_text_export_columns(std::vector<NamedColumn>& cols, std::deque<std::vector<double>>& store,
                             std::vector<std::string>& notes) {
  const auto add = [&](const std::string& header, std::vector<double> values) {
    store.push_back(std::move(values));
    cols.push_back(NamedColumn{header, &store.back()});
  };
  // The export's <I>/mA when there is no current column: dq over the f8 time step, as in the
  // text to 1e-15. Done here rather than by cycler_table's dq / dt on ns times, whose 1 ns
  // rounding is 5e-6 of the 200 us steps EC-Lab records at a control change.
  std::optional<NamedColumn> dq = find_named(cols, "dq/mA.h");
  if (!dq) dq = find_named(cols, "dQ/mA.h");
  const std::optional<NamedColumn> time = find_named(cols, "time/s");
  if (dq && time && !find_named(cols, "I/mA") && !find_named(cols, "<I>/mA")) {
    const std::vector<double>& q = *dq->values;
    const std::vector<double>& t = *time->values;
    std::vector<double> current(q.size(), 0.0);
    for (size_t i = 1; i < q.size(); ++i) {
      const double dt_s = t[i] - t[i - 1];
      if (dt_s > 0) current[i] = q[i] / (dt_s / 3600.0);
    }
    add("<I>/mA", std::move(current));
    notes.push_back(fmt::format("no current column: '<I>/mA' derived as EC-Lab's text export does, "
                                "I = '{}' / dt (first row 0, and 0 where dt <= 0)",
                                dq->header));
  }
  if (const auto q = find_named(cols, "Q charge/discharge/mA.h")) {
    const std::vector<double>& v = *q->values;
    std::vector<double> charge(v.size()), discharge(v.size()), capacity(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      charge[i] = v[i] > 0 ? v[i] : 0.0;
      discharge[i] = v[i] < 0 ? -v[i] : 0.0;
      capacity[i] = std::fabs(v[i]);
    }
    std::vector<std::string> made;
    if (!find_named(cols, "Q charge/mA.h")) {
      add("Q charge/mA.h", std::move(charge));
      made.push_back("'Q charge/mA.h' = max(Q, 0)");
    }
    if (!find_named(cols, "Q discharge/mA.h")) {
      add("Q discharge/mA.h", std::move(discharge));
      made.push_back("'Q discharge/mA.h' = max(-Q, 0)");
    }
    if (!find_named(cols, "Capacity/mA.h")) {
      add("Capacity/mA.h", std::move(capacity));
      made.push_back("'Capacity/mA.h' = |Q|");
    }
    if (!made.empty()) {
      notes.push_back(fmt::format("not stored in the .mpr, derived from Q = 'Q charge/discharge/mA.h' "
                                  "as EC-Lab's text export does: {}",
                                  fmt::join(made, ", ")));
    }
  }
  if (const auto half = find_named(cols, "half cycle"); half && !find_named(cols, "cycle number")) {
    const std::vector<double>& v = *half->values;
    std::vector<double> cycle(v.size());
    for (size_t i = 0; i < v.size(); ++i) cycle[i] = std::floor(v[i] / 2);
    add("cycle number", std::move(cycle));
    notes.push_back("not stored in the .mpr, derived as EC-Lab's text export does: 'cycle number' = "
                    "'half cycle' div 2");
  }
}

// The acquisition start from the LOG module, placed in the --tz zone like the .mpt's
// "Acquisition started on".
std::optional<StartSource> log_start(std::string_view bytes, const biologic::Module* log,
                                     const biologic::Module* settings, TimeContext& times,
                                     std::vector<std::string>& notes) {
  if (!log) {
    notes.push_back(fmt::format("no LOG module: the .mpr stores no start time{}",
                                settings ? fmt::format(" (its settings module is dated {}, "
                                                       "mm/dd/yy, without a time of day)",
                                                       settings->date)
                                         : std::string()));
    return std::nullopt;
  }
  const auto found = biologic::read_log_start(bytes, *log);
  if (!found) {
    notes.push_back(fmt::format("the LOG module (byte {}) holds no plausible start date at its "
                                "offsets 585, 465, 469 or 473: no start time",
                                log->offset));
    return std::nullopt;
  }
  // Rounded to the millisecond, the resolution of the .mpt's "Acquisition started on": the f8
  // day count resolves ~1 us at these dates and lands just off the whole second EC-Lab wrote
  // (fixture C24: 44130.53469907407 d = 12:49:57.99999997).
  const long double local_ns = (static_cast<long double>(found->ole_days) - kOleUnixEpochDays) * kNsPerDay;
  const int64_t local_ms = std::llround(local_ns / static_cast<long double>(kNsPerMs));
  const int64_t local_rounded_ns = local_ms * kNsPerMs;
  const CivilTime civil = ns_to_civil(local_rounded_ns);
  // "2020-10-26 12:49:58.000": ISO digits without the 'T...Z' that would claim UTC.
  std::string local_text = format_iso_utc(local_rounded_ns, 3);
  if (!local_text.empty() && local_text.back() == 'Z') local_text.pop_back();
  std::replace(local_text.begin(), local_text.end(), 'T', ' ');
  return StartSource{times.local_to_utc_ns(civil), true,
                     fmt::format("the LOG module's start date {} local time (OLE day number {:.9f} "
                                 "at byte {})",
                                 local_text, found->ole_days, found->file_offset)};
}

// One row per record: the time column in ns, every numeric role scaled to SI.
RowData rows_from_columns(const std::vector<NamedColumn>& cols, const ColumnMap& map,
                          const biologic::DataTable& table, const std::string& path) {
  RowData rows;
  const size_t n = table.n_points;
  rows.line.resize(n);
  for (size_t i = 0; i < n; ++i) rows.line[i] = i + 1;  // record number, 1-based

  const MappedColumn* time_col = map.get(Role::Time);  // check_cycler_columns made sure
  rows.has_rel = true;
  rows.rel_ns.resize(n);
  const std::vector<double>& t = *cols[time_col->index].values;
  const long double ns_per_unit = time_col->info.time_ns_per_unit;
  for (size_t i = 0; i < n; ++i) {
    const long double ns = static_cast<long double>(t[i]) * ns_per_unit;
    if (!std::isfinite(t[i]) || std::fabs(ns) > 9.2e18L) {
      throw ImportError(path, 0, time_col->header,
                        fmt::format("record {} (at byte {}) has time {}, which is not a usable "
                                    "time: the file is corrupt",
                                    i + 1, table.records_offset + i * table.record_size, t[i]));
    }
    rows.rel_ns[i] = std::llround(ns);
  }
  for (const MappedColumn& c : map.columns) {
    if (!is_numeric_role(c.info.role)) continue;
    rows.value_columns.push_back(&c);
    const std::vector<double>& src = *cols[c.index].values;
    std::vector<double> si(n);
    for (size_t i = 0; i < n; ++i) si[i] = src[i] * c.info.scale;
    rows.values.push_back(std::move(si));
  }
  return rows;
}

}  // namespace

bool looks_like_biologic_mpr(std::string_view bytes) { return biologic::starts_with_magic(bytes); }

ImportResult read_biologic_mpr(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const std::string_view bytes = in.bytes;
  const std::string& path = times.file();
  if (options.kind != Kind::Cycler) {
    throw ImportError(path, 0, "",
                      "this is a BioLogic EC-Lab binary file (potentiostat/cycler data); import "
                      "it as cycler, not as ms or strain");
  }
  const std::vector<biologic::Module> modules = biologic::read_modules(bytes, path);
  const biologic::Module* data = nullptr;
  const biologic::Module* log = nullptr;
  const biologic::Module* settings = nullptr;
  std::vector<std::string> names;
  for (const biologic::Module& m : modules) {
    names.push_back(m.short_name);
    const biologic::Module** slot = m.short_name == "VMP data" ? &data
                               : m.short_name == "VMP LOG" ? &log
                               : m.short_name == "VMP Set" ? &settings
                                                           : nullptr;
    if (!slot) continue;  // loop, ExtDev, ...: nothing the import needs
    if (*slot) {
      throw ImportError(path, 0, "",
                        fmt::format("two '{}' modules (bytes {} and {}); a run has one: the file "
                                    "is corrupt or not a single EC-Lab run",
                                    m.short_name, (*slot)->offset, m.offset));
    }
    *slot = &m;
  }
  if (!data) {
    throw ImportError(path, 0, "",
                      fmt::format("no 'VMP data' module (modules: {}): the file is truncated "
                                  "or holds no measurements",
                                  fmt::join(names, ", ")));
  }
  biologic::DataTable table = biologic::read_data_module(bytes, *data, path);
  if (table.n_points == 0) {
    throw ImportError(path, 0, "", "the data module holds no records: the file has no measurements");
  }

  CyclerRules rules;
  rules.format = "biologic-mpr";
  rules.derive_current_from_dq = true;
  rules.sign_note = "current sign: EC-Lab native (+ = oxidation at the working electrode), kept "
                    "as is: charge of a cathode half cell or full cell is positive";
  rules.notes.push_back(fmt::format(
      "BioLogic EC-Lab binary file: modules {}; data module layout {} ({} header, version {}{}), "
      "{} records of {} bytes, column ids {}",
      fmt::join(names, ", "), table.layout, data->new_header ? "new 59-byte" : "old 51-byte",
      data->version, data->new_header ? fmt::format("/{}", data->version2) : std::string(),
      table.n_points, table.record_size, fmt::join(table.ids, ", ")));

  std::vector<NamedColumn> cols;
  for (const biologic::DataColumn& c : table.columns) {
    cols.push_back(NamedColumn{std::string(c.spec->name), &c.values});
    if (c.spec->evidence != biologic::Evidence::Checked) {
      rules.notes.push_back(fmt::format("column id {} '{}' ({}) is known only from yadg's table, "
                                        "never checked against a text export: check its values",
                                        c.spec->id, c.spec->name, biologic::describe_type(*c.spec)));
    }
  }
  std::deque<std::vector<double>> derived;
  add_text_export_columns(cols, derived, rules.notes);
  rules.header_start = log_start(bytes, log, settings, times, rules.notes);

  std::vector<std::string> headers;
  for (const NamedColumn& c : cols) headers.push_back(c.header);
  ColumnMap map = map_columns(headers, Kind::Cycler, options.columns, path, 0);
  for (Role r : {Role::DateTime, Role::TimeNs, Role::State}) {
    if (const MappedColumn* c = map.get(r)) {
      throw ImportError(path, 0, c->header,
                        fmt::format("--columns {}={}: an .mpr has no such column (its time is "
                                    "relative seconds, 'time/s'); map time=HEADER instead",
                                    role_name(r), c->header));
    }
  }
  check_cycler_columns(map, headers, path, 0, rules);
  RowData rows = rows_from_columns(cols, map, table, path);
  return cycler_result_from_rows(map, headers, std::move(rows), options, times, rules);
}

}  // namespace opsync::import
