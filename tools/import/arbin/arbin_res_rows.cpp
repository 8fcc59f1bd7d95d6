// Arbin .res tables -> ImportResult: rows ordered by (Test_ID, Data_Point), each test placed
// at its start date plus Test_Time, stops and resumes placed by the wall clock, channels in SI
// and step/cycle events as for an Arbin CSV export. No file access here (see arbin_res.cpp).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "import/arbin/arbin_res.h"
#include "import/common/columns.h"
#include "import/common/table_reader.h"

namespace opsync::import {
namespace {

constexpr int64_t kOleDaysAtUnixEpoch = 25569;  // 1970-01-01 as OLE days (days since 1899-12-30)
constexpr int64_t kUsPerDay = 86400LL * 1000000LL;
constexpr double kSecondsPerHour = 3600.0;      // Ah -> C and Wh -> J

// DateTime has whole-second resolution and the two clocks drift apart slowly (the fixtures:
// 20 and 320 ppm), so a stop is a jump of the wall clock against Test_Time larger than 2 s
// plus 1000 ppm of the time between the two rows.
constexpr int64_t kPauseMinNs = 2 * kNsPerS;
constexpr int64_t kPausePerMille = 1;

// OLE days -> naive local time as ns since 1970-01-01 (read as UTC), rounded to 1 us: a double
// holds present-day OLE dates to about 1 us, finer digits are representation noise. nullopt
// outside 1980..2199 (an unset date is 0).
std::optional<int64_t> ole_days_to_local_ns(double days) {
  if (!std::isfinite(days) || days < 29221.0 || days > 109574.0) return std::nullopt;
  const long double us = std::round(static_cast<long double>(days) * static_cast<long double>(kUsPerDay));
  return (static_cast<int64_t>(us) - kOleDaysAtUnixEpoch * kUsPerDay) * 1000;
}

// "2021-05-19 09:52:46" (".123" when there are milliseconds) for naive local times.
std::string local_text(int64_t local_ns) {
  std::string s = format_iso_utc(local_ns, local_ns % kNsPerS != 0 ? 3 : 0);
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  if (s.size() > 10 && s[10] == 'T') s[10] = ' ';
  return s;
}

std::string seconds_text(int64_t ns) { return format_seconds(static_cast<double>(ns) / 1e9); }

// One Test_ID's rows, placed in time.
struct TestPlacement {
  int32_t test_id = 0;
  const ArbinTest* info = nullptr;  // its Global_Table row, if any
  size_t begin = 0;                 // rows [begin, end) of the sorted rows
  size_t end = 0;
  std::optional<StartSource> start;
  std::vector<int64_t> t_ns;        // per row: UTC ns (relative ns when there is no start)
  int64_t t_min = 0;
  int64_t t_max = 0;
  std::vector<std::string> notes;
  std::vector<EventData> gaps;      // one "gap" event per stop, at the last row before it
};

// The daemon's convention for a stretch without data: at its start, "<seconds> s without data (why)".
EventData gap_event(int64_t from_ns, int64_t to_ns, const std::string& why) {
  return EventData{from_ns, "gap", fmt::format("{:.3f} s without data ({})", static_cast<double>(to_ns - from_ns) / 1e9, why)};
}

std::string describe_test(const TestPlacement& p) {
  std::string s = fmt::format("Test_ID {}", p.test_id);
  if (p.info) {
    s += fmt::format(" '{}'", p.info->name);
    if (p.info->channel_index) s += fmt::format(", Channel_Index {}", *p.info->channel_index);
  } else {
    s += " (not in Global_Table)";
  }
  s += fmt::format(", {} rows", p.end - p.begin);
  return s;
}

// Start of the test, Test_Time from there, and the wall clock's word at every stop: Test_Time
// does not count the time a test was stopped, so rows after a resume are placed at their own
// DateTime and Test_Time again from there.
TestPlacement place_test(const std::vector<ArbinRow>& rows, size_t begin, size_t end, const ArbinTest* info,
                         bool has_date_time, TimeContext& times) {
  TestPlacement p;
  p.test_id = rows[begin].test_id;
  p.info = info;
  p.begin = begin;
  p.end = end;
  const auto utc_of = [&](std::optional<int64_t> local_ns) -> std::optional<int64_t> {
    if (!local_ns) return std::nullopt;
    return times.local_to_utc_ns(ns_to_civil(*local_ns));
  };
  const auto row_utc = [&](size_t i) -> std::optional<int64_t> {
    return has_date_time ? utc_of(ole_days_to_local_ns(rows[i].date_time_ole)) : std::nullopt;
  };

  if (info && info->start_ole_days) {
    const auto local = ole_days_to_local_ns(*info->start_ole_days);
    if (local) {
      p.start = StartSource{*utc_of(local), true,
                            fmt::format("Global_Table Start_DateTime of Test_ID {} ({} OLE days = {} "
                                        "cycler-PC local time)",
                                        p.test_id, *info->start_ole_days, local_text(*local))};
    } else {
      p.notes.push_back(fmt::format("Test_ID {}: Start_DateTime {} is not a date between 1980 and 2199; "
                                    "ignored",
                                    p.test_id, *info->start_ole_days));
    }
  }
  if (!p.start) {
    for (size_t i = begin; i < end && !p.start; ++i) {
      const auto local = has_date_time ? ole_days_to_local_ns(rows[i].date_time_ole) : std::nullopt;
      if (!local) continue;
      p.start = StartSource{*utc_of(local) - rows[i].test_time_ns, true,
                            fmt::format("DateTime of Test_ID {} Data_Point {} ({} cycler-PC local time) "
                                        "minus its Test_Time {}",
                                        p.test_id, rows[i].data_point, local_text(*local),
                                        seconds_text(rows[i].test_time_ns))};
    }
  }
  const int64_t start_ns = p.start ? p.start->utc_ns : 0;

  p.t_ns.resize(end - begin);
  int64_t pause_ns = 0;  // wall-clock time not counted by Test_Time, up to this row
  std::optional<int64_t> prev_offset;
  int64_t prev_test_time = 0;
  bool noted_backwards = false;
  int64_t worst_ns = 0;
  size_t worst_row = begin;
  for (size_t i = begin; i < end; ++i) {
    const ArbinRow& r = rows[i];
    const std::optional<int64_t> wall = p.start ? row_utc(i) : std::nullopt;
    bool stopped_here = false;
    if (wall) {
      const int64_t offset = *wall - r.test_time_ns;  // wall clock minus channel clock
      if (prev_offset) {
        const int64_t jump = offset - *prev_offset;
        const int64_t allowed = kPauseMinNs + std::abs(r.test_time_ns - prev_test_time) / 1000 * kPausePerMille;
        if (jump > allowed) {
          pause_ns = offset - start_ns;
          stopped_here = true;
          p.notes.push_back(fmt::format(
              "Test_ID {} was stopped and resumed at Test_Time {}: DateTime jumps {} ahead of Test_Time "
              "there (Test_Time does not count the stop); rows from Data_Point {} on are placed at that "
              "row's DateTime plus Test_Time since it, and a 'gap' event marks the stop",
              p.test_id, seconds_text(r.test_time_ns), seconds_text(jump), r.data_point));
        } else if (jump < -allowed && !noted_backwards) {
          noted_backwards = true;
          p.notes.push_back(fmt::format(
              "Test_ID {}: DateTime goes back {} against Test_Time at Data_Point {} (PC clock set back, or "
              "a daylight-saving change: see --tz); times follow Test_Time",
              p.test_id, seconds_text(-jump), r.data_point));
        }
      }
      prev_offset = offset;
      prev_test_time = r.test_time_ns;
    }
    const int64_t t = start_ns + r.test_time_ns + pause_ns;
    p.t_ns[i - begin] = t;
    if (stopped_here && i > begin) {
      p.gaps.push_back(gap_event(p.t_ns[i - begin - 1], t,
                                 "test stopped and resumed; Test_Time does not count the stop"));
    }
    if (wall && std::abs(*wall - t) > worst_ns) {
      worst_ns = std::abs(*wall - t);
      worst_row = i;
    }
  }
  if (worst_ns > kPauseMinNs) {
    p.notes.push_back(fmt::format(
        "Test_ID {}: DateTime (cycler PC clock, whole seconds) and the placed time differ by up to {} "
        "(at Data_Point {}): the two clocks drift apart; times follow Test_Time, the channel's clock",
        p.test_id, seconds_text(worst_ns), rows[worst_row].data_point));
  }
  const auto [lo, hi] = std::minmax_element(p.t_ns.begin(), p.t_ns.end());
  p.t_min = *lo;
  p.t_max = *hi;
  return p;
}

// Why tests cannot be imported together, or "" when they can.
std::string why_not_together(const std::vector<TestPlacement>& tests) {
  for (const TestPlacement& p : tests) {
    if (!p.start) return fmt::format("Test_ID {} has no start date", p.test_id);
    if (!p.info || !p.info->channel_index)
      return fmt::format("the channel of Test_ID {} is not known", p.test_id);
    if (*p.info->channel_index != *tests.front().info->channel_index) {
      return fmt::format("they ran on different channels (Channel_Index {} and {})",
                         *tests.front().info->channel_index, *p.info->channel_index);
    }
  }
  for (size_t k = 1; k < tests.size(); ++k) {
    if (tests[k].t_min <= tests[k - 1].t_max) {
      return fmt::format("Test_ID {} starts before Test_ID {} ends", tests[k].test_id,
                         tests[k - 1].test_id);
    }
  }
  return "";
}

// Damage entries found along the rows, each with the row it is about (an index into the sorted
// rows), so that the entry can be given that row's time once the rows are placed.
using DamageRows = std::vector<std::pair<size_t, size_t>>;  // (damage entry, row)

// Rows of a test Global_Table does not list are left out, one damage entry per such Test_ID:
// their Test_ID is damaged (a test's rows are written after its Global_Table row).
// A Test_Time beyond 30 years either way is no time a test ran, and placing it (start + Test_Time,
// int64 ns) would overflow past the year 2262: the fuzzer's mutated Test_Time of 253 years did.
// Starts are dates before 2200, so within this bound every placed time fits.
constexpr int64_t kMaxTestTimeNs = int64_t{30} * 365 * 86400 * kNsPerS;

void drop_absurd_test_times(std::vector<ArbinRow>& rows, std::vector<Damage>& damage) {
  size_t dropped = 0;
  int64_t example = 0;
  std::erase_if(rows, [&](const ArbinRow& r) {
    const bool absurd = r.test_time_ns > kMaxTestTimeNs || r.test_time_ns < -kMaxTestTimeNs;
    if (absurd && dropped++ == 0) example = r.test_time_ns;
    return absurd;
  });
  if (dropped > 0) {
    damage.push_back(Damage{"table 'Channel_Normal_Table'",
                            fmt::format("{} row(s) have a Test_Time beyond 30 years (e.g. {}), which no test runs",
                                        dropped, seconds_text(example)),
                            dropped, std::nullopt});
  }
}

void drop_unlisted_tests(std::vector<ArbinRow>& rows, const std::vector<ArbinTest>& listed,
                         std::vector<Damage>& damage, const std::string& path) {
  if (listed.empty()) return;
  std::map<int32_t, size_t> unknown;  // Test_ID -> rows
  std::erase_if(rows, [&](const ArbinRow& r) {
    const bool is_listed = std::any_of(listed.begin(), listed.end(),
                                       [&](const ArbinTest& t) { return t.test_id == r.test_id; });
    if (!is_listed) ++unknown[r.test_id];
    return !is_listed;
  });
  for (const auto& [id, count] : unknown) {
    damage.push_back(Damage{"table 'Channel_Normal_Table'",
                            fmt::format("{} row(s) carry Test_ID {}, which Global_Table does not list", count, id),
                            count, std::nullopt});
  }
  if (rows.empty()) {
    throw ImportError(path, 0, "Test_ID",
                      "no row of Channel_Normal_Table carries a Test_ID that Global_Table lists; the file is "
                      "damaged, nothing imported");
  }
}

// Orders the rows by (Test_ID, Data_Point); returns at how many places the file stored them out
// of that order, for the assumption line.
size_t sort_rows(std::vector<ArbinRow>& rows) {
  size_t out_of_order = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].test_id == rows[i - 1].test_id && rows[i].data_point != rows[i - 1].data_point + 1) ++out_of_order;
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ArbinRow& a, const ArbinRow& b) {
    return a.test_id != b.test_id ? a.test_id < b.test_id : a.data_point < b.data_point;
  });
  return out_of_order;
}

// Damage within a test's sorted rows: Data_Point numbers the rows of a test 1, 2, 3, ...; Test_Time
// never goes back along them. Appends the entries to `damage` and returns where each one is.
DamageRows check_data_points(const std::vector<ArbinRow>& rows, std::vector<Damage>& damage) {
  DamageRows damage_row;
  size_t repeated = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].test_id != rows[i - 1].test_id) continue;
    if (rows[i].data_point == rows[i - 1].data_point) {
      if (repeated++ == 0) {
        damage.push_back(Damage{"table 'Channel_Normal_Table'",
                                fmt::format("Data_Point {} of Test_ID {} appears twice", rows[i].data_point,
                                            rows[i].test_id),
                                1, std::nullopt});
        damage_row.emplace_back(damage.size() - 1, i);
      } else {
        ++damage.back().rows;
      }
      continue;
    }
    if (rows[i].data_point > rows[i - 1].data_point + 1) {
      damage.push_back(Damage{fmt::format("Test_ID {} Data_Point {}", rows[i].test_id, rows[i - 1].data_point),
                              fmt::format("Data_Point jumps from {} to {}: {} row(s) missing",
                                          rows[i - 1].data_point, rows[i].data_point,
                                          rows[i].data_point - rows[i - 1].data_point - 1),
                              static_cast<size_t>(rows[i].data_point - rows[i - 1].data_point - 1), std::nullopt});
      damage_row.emplace_back(damage.size() - 1, i);
    }
    if (rows[i].test_time_ns < rows[i - 1].test_time_ns) {
      damage.push_back(Damage{fmt::format("Test_ID {} Data_Point {}", rows[i].test_id, rows[i].data_point),
                              fmt::format("Test_Time goes back from {} to {}", seconds_text(rows[i - 1].test_time_ns),
                                          seconds_text(rows[i].test_time_ns)),
                              1, std::nullopt});
      damage_row.emplace_back(damage.size() - 1, i);
    }
  }
  return damage_row;
}

// Salvage keeps the first row of a repeated Data_Point and drops rows whose Test_Time goes back;
// each damage entry then points at the kept row at (or after) the one it was about.
void drop_damaged_rows(std::vector<ArbinRow>& rows, DamageRows& damage_row) {
  std::vector<ArbinRow> kept;
  kept.reserve(rows.size());
  std::vector<size_t> new_index(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool drop = !kept.empty() && kept.back().test_id == rows[i].test_id &&
                      (rows[i].data_point == kept.back().data_point || rows[i].test_time_ns < kept.back().test_time_ns);
    new_index[i] = kept.size();
    if (!drop) kept.push_back(rows[i]);
  }
  for (auto& [entry, row] : damage_row) row = std::min(new_index[row], kept.size() - 1);
  rows = std::move(kept);
}

// One placement per Test_ID, in Test_ID order, each with its Global_Table row if it has one.
std::vector<TestPlacement> place_tests(const std::vector<ArbinRow>& rows, const ArbinTables& tables,
                                       TimeContext& times) {
  std::vector<TestPlacement> tests;
  for (size_t begin = 0; begin < rows.size();) {
    size_t end = begin + 1;
    while (end < rows.size() && rows[end].test_id == rows[begin].test_id) ++end;
    const ArbinTest* info = nullptr;
    for (const ArbinTest& t : tables.tests)
      if (t.test_id == rows[begin].test_id) info = &t;
    tests.push_back(place_test(rows, begin, end, info, tables.columns.date_time, times));
    begin = end;
  }
  return tests;
}

// The assumption lines about the file's tests and the row order. Returns how many tests are
// imported: all of them when they can go together, else only the first.
size_t describe_tests(const std::vector<TestPlacement>& tests, const std::vector<ArbinTest>& listed,
                      size_t out_of_order, std::vector<std::string>& assumptions) {
  size_t imported = 1;  // the first `imported` tests are imported
  if (tests.size() > 1) {
    std::string list;
    for (const TestPlacement& p : tests) list += (list.empty() ? "" : "; ") + describe_test(p);
    const std::string why = why_not_together(tests);
    if (why.empty()) {
      imported = tests.size();
      assumptions.push_back(fmt::format(
          "the file holds {} tests ({}): consecutive tests of one channel, all imported, each placed at "
          "its own start date",
          tests.size(), list));
    } else {
      assumptions.push_back(fmt::format(
          "the file holds {} tests ({}): only Test_ID {} imported, because {}; the others are left out",
          tests.size(), list, tests.front().test_id, why));
    }
  } else {
    assumptions.push_back(describe_test(tests.front()) +
                          (tests.front().info && !tests.front().info->schedule.empty()
                               ? fmt::format(", schedule '{}'", tests.front().info->schedule)
                               : std::string()));
  }
  for (const ArbinTest& t : listed) {
    const bool has_rows = std::any_of(tests.begin(), tests.end(),
                                      [&](const TestPlacement& p) { return p.test_id == t.test_id; });
    if (!has_rows) {
      assumptions.push_back(
          fmt::format("Global_Table lists Test_ID {} '{}' with no rows in Channel_Normal_Table", t.test_id, t.name));
    }
  }
  assumptions.push_back(
      fmt::format("rows ordered by (Test_ID, Data_Point){}", out_of_order > 0
                                                                 ? fmt::format(" (stored out of that order "
                                                                               "at {} places)",
                                                                               out_of_order)
                                                                 : std::string()));
  return imported;
}

// The imported tests' rows on one time axis (each time moved by `shift`), with a "gap" event for
// every stop within a test and for the time between tests.
struct MergedRows {
  std::vector<int64_t> t_ns;           // per imported row
  std::vector<const ArbinRow*> row_of;  // per imported row
  std::vector<EventData> gaps;
};

// Puts the first `imported` tests (n rows in all) one after the other on the result's time axis.
MergedRows merge_tests(const std::vector<TestPlacement>& tests, size_t imported, const std::vector<ArbinRow>& rows,
                       size_t n, int64_t shift) {
  MergedRows m;
  m.t_ns.reserve(n);
  m.row_of.reserve(n);
  for (size_t k = 0; k < imported; ++k) {
    const TestPlacement& p = tests[k];
    if (k > 0) {
      m.gaps.push_back(gap_event(m.t_ns.back(), p.t_ns.front() + shift,
                                 fmt::format("between Test_ID {} and Test_ID {}", tests[k - 1].test_id, p.test_id)));
    }
    for (size_t i = p.begin; i < p.end; ++i) {
      m.t_ns.push_back(p.t_ns[i - p.begin] + shift);
      m.row_of.push_back(&rows[i]);
    }
    for (EventData e : p.gaps) {
      e.t_ns += shift;
      m.gaps.push_back(std::move(e));
    }
  }
  return m;
}

// Gives each damage entry the time of the row it is about, when that row is imported, so that
// its salvage event lands where the damage is.
void place_damage(std::vector<Damage>& damage, const DamageRows& damage_row, const std::vector<TestPlacement>& tests,
                  size_t imported, int64_t shift) {
  for (const auto& [entry, row] : damage_row) {
    for (size_t k = 0; k < imported; ++k) {
      const TestPlacement& p = tests[k];
      if (row >= p.begin && row < p.end) damage[entry].t_ns = p.t_ns[row - p.begin] + shift;
    }
  }
}

struct ValueColumn {
  Role role;
  bool present;
  double ArbinRow::*field;
  double scale;
  const char* header;
  const char* unit;
};

// One channel per value column the file has, in SI (Ah and Wh to C and J), and the assumption
// lines about the columns and the current's sign.
void build_channels(const MergedRows& merged, const ArbinColumns& c, const ImportOptions& options,
                    ImportResult& result) {
  const size_t n = merged.t_ns.size();
  const ValueColumn value_columns[] = {
      {Role::Voltage, true, &ArbinRow::voltage_v, 1.0, "Voltage", "V"},
      {Role::Current, true, &ArbinRow::current_a, options.invert_current ? -1.0 : 1.0, "Current", "A"},
      {Role::ChargeCapacity, c.charge_capacity, &ArbinRow::charge_capacity_ah, kSecondsPerHour,
       "Charge_Capacity", "Ah"},
      {Role::DischargeCapacity, c.discharge_capacity, &ArbinRow::discharge_capacity_ah, kSecondsPerHour,
       "Discharge_Capacity", "Ah"},
      {Role::ChargeEnergy, c.charge_energy, &ArbinRow::charge_energy_wh, kSecondsPerHour, "Charge_Energy", "Wh"},
      {Role::DischargeEnergy, c.discharge_energy, &ArbinRow::discharge_energy_wh, kSecondsPerHour,
       "Discharge_Energy", "Wh"},
      {Role::Step, c.step, &ArbinRow::step, 1.0, "Step_Index", ""},
      {Role::Cycle, c.cycle, &ArbinRow::cycle, 1.0, "Cycle_Index", ""},
  };
  std::string mapped = "Test_Time (s) -> time";
  for (const ValueColumn& vc : value_columns) {
    if (!vc.present) continue;
    const ChannelSpec spec = channel_spec(vc.role);
    ChannelData ch{spec.name, spec.unit, spec.quantity, {}, {}};
    ch.t_ns.reserve(n);
    ch.values.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const double v = merged.row_of[i]->*vc.field;
      if (std::isnan(v)) continue;
      ch.t_ns.push_back(merged.t_ns[i]);
      ch.values.push_back(v * vc.scale);
    }
    mapped += *vc.unit ? fmt::format(", {} ({}) -> {} ({})", vc.header, vc.unit, spec.name, spec.unit)
                       : fmt::format(", {} -> {}", vc.header, spec.name);
    result.channels.push_back(std::move(ch));
  }
  if (c.date_time) mapped += ", DateTime (OLE days) -> stops and clock check only";
  result.assumptions.push_back("columns: " + mapped);
  if (!c.skipped.empty()) {
    std::string list;
    for (const std::string& s : c.skipped) list += (list.empty() ? "'" : ", '") + s + "'";
    result.assumptions.push_back("columns not imported: " + list);
  }
  result.assumptions.push_back("current sign: Arbin native (+ = charge), kept");
  if (options.invert_current) {
    result.assumptions.push_back("current inverted (--invert-current): the file's positive direction is "
                                 "taken as discharge");
  }
}

// Step and cycle changes between consecutive rows that have one, as "step_change" and
// "cycle_change" events like those of an Arbin CSV export.
void add_step_cycle_events(const MergedRows& merged, const ArbinColumns& c, std::vector<EventData>& events) {
  double prev_step = std::nan(""), prev_cycle = std::nan("");
  for (size_t i = 0; i < merged.t_ns.size(); ++i) {
    const ArbinRow& r = *merged.row_of[i];
    if (c.step && !std::isnan(r.step)) {
      if (!std::isnan(prev_step) && r.step != prev_step) {
        events.push_back(EventData{merged.t_ns[i], "step_change",
                                   fmt::format("step {} -> {}", format_count(prev_step), format_count(r.step))});
      }
      prev_step = r.step;
    }
    if (c.cycle && !std::isnan(r.cycle)) {
      if (!std::isnan(prev_cycle) && r.cycle != prev_cycle) {
        events.push_back(EventData{merged.t_ns[i], "cycle_change",
                                   fmt::format("cycle {} -> {}", format_count(prev_cycle), format_count(r.cycle))});
      }
      prev_cycle = r.cycle;
    }
  }
}

}  // namespace

ImportResult arbin_tables_to_result(ArbinTables tables, const std::string& path, const ImportOptions& options,
                                    TimeContext& times) {
  if (options.kind != Kind::Cycler) {
    throw ImportError(path, 0, "", "this is an Arbin .res file, which holds cycler data; import it as cycler");
  }
  std::vector<ArbinRow>& rows = tables.rows;
  if (rows.empty()) {
    throw ImportError(path, 0, "",
                      "Channel_Normal_Table has no rows: the test logged no data points; nothing to import");
  }
  std::vector<Damage> damage = std::move(tables.damage);
  drop_absurd_test_times(rows, damage);
  if (rows.empty()) {
    throw ImportError(path, 0, "Test_Time", "no row of Channel_Normal_Table has a plausible Test_Time; the file is "
                                            "damaged, nothing imported");
  }
  drop_unlisted_tests(rows, tables.tests, damage, path);
  const size_t out_of_order = sort_rows(rows);
  DamageRows damage_row = check_data_points(rows, damage);
  drop_damaged_rows(rows, damage_row);
  const std::vector<TestPlacement> tests = place_tests(rows, tables, times);

  ImportResult result;
  result.format = "arbin-res";
  for (const std::string& n : tables.notes) result.assumptions.push_back(n);
  if (!options.columns.empty()) {
    result.assumptions.push_back("--columns ignored: the columns of a .res file are fixed by the Arbin "
                                 "schema");
  }
  const size_t imported = describe_tests(tests, tables.tests, out_of_order, result.assumptions);
  size_t n = 0;
  for (size_t k = 0; k < imported; ++k) {
    const TestPlacement& p = tests[k];
    n += p.end - p.begin;
    for (const std::string& note : p.notes) result.assumptions.push_back(note);
  }
  result.rows = n;

  // Absolute start: the first imported test's; --start moves every test by the same amount.
  times.place_start(result, tests.front().start);
  int64_t shift = 0;
  if (times.start_override() || !tests.front().start) {
    // Times were placed from the test's own start, or from 0 without one: move them to the chosen start.
    shift = result.start_ns - (tests.front().start ? tests.front().start->utc_ns : 0);
  }
  MergedRows merged = merge_tests(tests, imported, rows, n, shift);
  place_damage(damage, damage_row, tests, imported, shift);
  result.damage = std::move(damage);

  build_channels(merged, tables.columns, options, result);
  add_step_cycle_events(merged, tables.columns, result.events);
  // Stops and the time between tests as "gap" events, so nothing integrates across them.
  for (EventData& e : merged.gaps) result.events.push_back(std::move(e));
  std::stable_sort(result.events.begin(), result.events.end(),
                   [](const EventData& a, const EventData& b) { return a.t_ns < b.t_ns; });

  times.finish(result);
  return result;
}

}  // namespace opsync::import
