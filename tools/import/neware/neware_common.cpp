// Neware readers' shared part: byte reads, status/range tables, the integer record of .nda v29 and
// .ndc v5, and records -> ImportResult.
#include "import/neware/neware_common.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <initializer_list>

#include <fmt/format.h>

#include "core/time_format.h"
#include "import/common/columns.h"
#include "import/common/table_reader.h"

namespace opsync::import::neware {
namespace {

int64_t add_or_fail(int64_t a, int64_t b, const std::string& file) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) {
    throw ImportError(file, 0, "",
                      "times add up beyond the representable range; the file's time fields are corrupt");
  }
  return out;
}

std::string status_text(int code) {
  if (const auto name = status_name(code)) return std::string(*name);
  return fmt::format("status {}", code);
}

// Index jumps and repeats in file order (the Index runs 1, 2, 3, ...: a jump is rows lost, a
// repeat a block written twice), each with the Index where it shows, to place it in time later.
struct IndexDamage {
  std::vector<Damage> damage;
  std::vector<int64_t> at_index;  // per damage: the Index where it shows
};

// Compares each record's Index with the one before it, in file order (before sorting, which
// would hide a block written twice); stops after 1000 findings, enough to say what is wrong.
IndexDamage check_index_sequence(const std::vector<Record>& recs) {
  IndexDamage out;
  for (size_t i = 0; i < recs.size(); ++i) {
    const int64_t expected = i == 0 ? 1 : recs[i - 1].index + 1;
    if (recs[i].index > expected) {
      out.damage.push_back(Damage{
          fmt::format("record {} of the file", i + 1),
          fmt::format("Index jumps from {} to {}: rows {}..{} are missing", expected - 1, recs[i].index, expected,
                      recs[i].index - 1),
          static_cast<size_t>(recs[i].index - expected), std::nullopt});
      out.at_index.push_back(recs[i].index);
    } else if (recs[i].index < expected) {
      out.damage.push_back(Damage{fmt::format("record {} of the file", i + 1),
                                  fmt::format("Index goes back from {} to {} (rows stored twice or out of order)",
                                              expected - 1, recs[i].index),
                                  0, std::nullopt});
      out.at_index.push_back(recs[i].index);
    }
    if (out.damage.size() > 1000) break;  // enough to say what is wrong
  }
  return out;
}

// Sorts the records by Index (stable) and keeps the first record of each repeated Index, so
// that every row appears once; returns how many records were dropped.
size_t keep_first_per_index(std::vector<Record>& recs) {
  std::stable_sort(recs.begin(), recs.end(),
                   [](const Record& a, const Record& b) { return a.index < b.index; });
  const size_t before = recs.size();
  recs.erase(std::unique(recs.begin(), recs.end(),
                         [](const Record& a, const Record& b) { return a.index == b.index; }),
             recs.end());
  return before - recs.size();
}

// The running step number of every row (1, 2, ...): a new step whenever the step key changes.
std::vector<int64_t> number_steps(const std::vector<Record>& recs) {
  std::vector<int64_t> step(recs.size());
  int64_t step_no = 1;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (i > 0 && recs[i].step_key != recs[i - 1].step_key) ++step_no;
    step[i] = step_no;
  }
  return step;
}

// The running test time of every row, ns. The stored Time restarts in every step in most files:
// then each step starts where the last Time of the step before ended. A Time that never
// decreases is the test time already. Says which reading was taken in `assumptions`.
std::vector<int64_t> running_test_time_ns(const std::vector<Record>& recs, const std::vector<int64_t>& step,
                                          const std::string& path, std::vector<std::string>& assumptions) {
  const size_t n = recs.size();
  bool monotonic = true;
  for (size_t i = 1; i < n && monotonic; ++i) monotonic = recs[i].time_ns >= recs[i - 1].time_ns;
  std::vector<int64_t> test_ns(n);
  if (monotonic) {
    for (size_t i = 0; i < n; ++i) test_ns[i] = recs[i].time_ns;
    assumptions.push_back("the file's Time never decreases: taken as the running test time");
  } else {
    int64_t offset_ns = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0 && step[i] != step[i - 1]) offset_ns = add_or_fail(offset_ns, recs[i - 1].time_ns, path);
      test_ns[i] = add_or_fail(recs[i].time_ns, offset_ns, path);
    }
    assumptions.push_back(
        "the file's Time is step time (restarts in each step): test time = Time + the last Time "
        "of every earlier step (a step's first row, at Time 0, shares the time of the previous "
        "step's last row)");
  }
  return test_ns;
}

// The rows' wall clock: the first and last row with a stamp (both == the row count when no row
// has one), and a stamp read as UTC (a naive stamp through the assumed zone).
struct WallClock {
  const Decoded& decoded;
  TimeContext& times;
  size_t first = 0, last = 0;

  bool any() const { return first < decoded.records.size(); }
  int64_t utc_ns(const Record& r) const {
    return decoded.wall_naive ? times.local_to_utc_ns(ns_to_civil(r.wall_ns)) : r.wall_ns;
  }
};

// Finds the first and last rows of `d` (sorted by Index) that carry a wall-clock stamp.
WallClock find_wall_clock(const Decoded& d, TimeContext& times) {
  const size_t n = d.records.size();
  WallClock wall{d, times, n, n};
  for (size_t i = 0; i < n; ++i) {
    if (!d.records[i].has_wall) continue;
    if (wall.first == n) wall.first = i;
    wall.last = i;
  }
  return wall;
}

// The absolute start: the first wall-clock stamp minus the test time of its row, with the line
// saying where it came from; none when no row has a stamp.
std::optional<StartSource> start_from_wall_clock(const WallClock& wall, const std::vector<int64_t>& test_ns,
                                                 const std::string& path) {
  if (!wall.any()) return std::nullopt;
  const Decoded& d = wall.decoded;
  const Record& r = d.records[wall.first];
  const int64_t utc_ns = wall.utc_ns(r);
  std::optional<StartSource> start = StartSource{
      add_or_fail(utc_ns, -test_ns[wall.first], path), d.wall_naive,
      fmt::format("{} of the first row (Index {}, {}{})", d.wall_what, r.index,
                  format_iso_utc(r.wall_ns, 3).substr(0, 23), d.wall_naive ? " local" : " UTC")};
  if (test_ns[wall.first] != 0) {
    start->what +=
        fmt::format(" minus its test time {}", format_seconds(static_cast<double>(test_ns[wall.first]) / 1e9));
  }
  return start;
}

// Gives each Index damage (from `first` in result.damage on) the time of the first row at or
// after the Index where it shows.
void place_index_damage(ImportResult& result, size_t first, const std::vector<int64_t>& at_index,
                        const std::vector<Record>& recs, const std::vector<int64_t>& t_ns) {
  for (size_t k = 0; k < at_index.size(); ++k) {
    const auto at = std::lower_bound(recs.begin(), recs.end(), at_index[k],
                                     [](const Record& r, int64_t index) { return r.index < index; });
    if (at != recs.end()) result.damage[first + k].t_ns = t_ns[static_cast<size_t>(at - recs.begin())];
  }
}

// Wall clock and test time should advance together; pauses make the wall clock run ahead. Says
// so when they part by more than 2 s (or 0.1 %) over the file, unless --start placed the file.
void note_wall_clock_drift(const WallClock& wall, const std::vector<int64_t>& test_ns, bool start_override,
                           std::vector<std::string>& assumptions) {
  if (!(wall.any() && wall.last > wall.first && !start_override)) return;
  const std::vector<Record>& recs = wall.decoded.records;
  const int64_t wall_span_ns = wall.utc_ns(recs[wall.last]) - wall.utc_ns(recs[wall.first]);
  const int64_t test_span_ns = test_ns[wall.last] - test_ns[wall.first];
  const int64_t diff_ns = wall_span_ns - test_span_ns;
  if (std::abs(diff_ns) > std::max<int64_t>(2 * kNsPerS, std::abs(test_span_ns) / 1000)) {
    assumptions.push_back(
        fmt::format("the wall clock advanced {} over the file but the test time only {} (pauses are not "
                    "counted in test time); times follow the test time from the start",
                    format_seconds(static_cast<double>(wall_span_ns) / 1e9),
                    format_seconds(static_cast<double>(test_span_ns) / 1e9)));
  }
}

// Notes Neware's current sign, and flips every current for --invert-current.
void apply_current_sign(std::vector<Record>& recs, bool invert_current, std::vector<std::string>& assumptions) {
  assumptions.push_back(
      "current sign: Neware native (+ in charge states, - in discharge "
      "states), kept");
  if (invert_current) {
    for (Record& r : recs) r.current_a = -r.current_a;
    assumptions.push_back(
        "current inverted (--invert-current): the file's positive "
        "direction is taken as discharge");
  }
}

// The rows channels and events are built from: records in Index order, each row's absolute
// time and its running step number.
struct Rows {
  const std::vector<Record>& recs;
  const std::vector<int64_t>& t_ns;
  const std::vector<int64_t>& step;
};

// Adds the channel of `role` (its quantity replaced by `quantity` when given) with
// value_of(record, row) at every row that stores it (NaN: not stored on this row). Infinite
// values are left out and counted in the assumptions; a channel without values is not added.
template <typename ValueOf>
void add_channel(ImportResult& result, const Rows& rows, Role role, ValueOf value_of, std::string quantity = {}) {
  ChannelSpec spec = channel_spec(role);
  ChannelData ch{spec.name, spec.unit, quantity.empty() ? spec.quantity : quantity, {}, {}};
  size_t non_finite = 0;
  for (size_t i = 0; i < rows.recs.size(); ++i) {
    const double v = value_of(rows.recs[i], i);
    if (std::isnan(v)) continue;  // not stored on this row
    if (!std::isfinite(v)) {
      ++non_finite;
      continue;
    }
    ch.t_ns.push_back(rows.t_ns[i]);
    ch.values.push_back(v);
  }
  if (non_finite > 0) {
    result.assumptions.push_back(fmt::format("{} infinite value(s) of {} left out", non_finite, spec.name));
  }
  if (!ch.t_ns.empty()) result.channels.push_back(std::move(ch));
}

// The channels every record carries: voltage, current, capacities, energies, the running step
// number and, when the format stores it, the cycle number; then the line saying what they are.
void add_record_channels(ImportResult& result, const Rows& rows, bool has_cycle) {
  add_channel(result, rows, Role::Voltage, [](const Record& r, size_t) { return r.voltage_v; });
  add_channel(result, rows, Role::Current, [](const Record& r, size_t) { return r.current_a; });
  add_channel(result, rows, Role::ChargeCapacity, [](const Record& r, size_t) { return r.charge_capacity_c; });
  add_channel(result, rows, Role::DischargeCapacity,
              [](const Record& r, size_t) { return r.discharge_capacity_c; });
  add_channel(result, rows, Role::ChargeEnergy, [](const Record& r, size_t) { return r.charge_energy_j; });
  add_channel(result, rows, Role::DischargeEnergy, [](const Record& r, size_t) { return r.discharge_energy_j; });
  add_channel(
      result, rows, Role::Step, [&](const Record&, size_t i) { return static_cast<double>(rows.step[i]); },
      "step number (running count of the test's steps)");
  if (has_cycle) {
    add_channel(
        result, rows, Role::Cycle, [](const Record& r, size_t) { return static_cast<double>(r.cycle); },
        "cycle number as stored by the cycler");
  }
  result.assumptions.push_back(
      "capacities and energies as the cycler stores them (per step), in C and J (1 mAh = 3.6 C); "
      "step = running step number; cycle = the file's own cycle number (+1; NewareNDA's default "
      "instead starts a cycle at each charge after a discharge)");
}

// One channel per auxiliary series, joined to the rows on Index (the series is sorted by Index
// first); rows without a value are counted in the assumptions, non-finite values left out.
void add_aux_channels(ImportResult& result, std::vector<AuxSeries>& aux_series, const Rows& rows) {
  const size_t n = rows.recs.size();
  for (AuxSeries& aux : aux_series) {
    std::stable_sort(aux.by_index.begin(), aux.by_index.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    ChannelData ch{aux.name, aux.unit, aux.quantity, {}, {}};
    size_t j = 0, unmatched = 0;
    for (size_t i = 0; i < n; ++i) {
      while (j < aux.by_index.size() && aux.by_index[j].first < rows.recs[i].index) ++j;
      if (j == aux.by_index.size() || aux.by_index[j].first != rows.recs[i].index) {
        ++unmatched;
        continue;
      }
      const double v = aux.by_index[j].second;
      if (!std::isfinite(v)) continue;
      ch.t_ns.push_back(rows.t_ns[i]);
      ch.values.push_back(v);
    }
    if (unmatched > 0) {
      result.assumptions.push_back(fmt::format("{}: no value for {} of {} rows", aux.name, unmatched, n));
    }
    if (!ch.t_ns.empty()) result.channels.push_back(std::move(ch));
  }
}

// A step_change event where the running step number changes and, when the format stores the
// cycle, a cycle_change event where it changes; rows whose status is not in Neware's table
// are counted in the assumptions (their events name it 'status N').
void add_step_cycle_events(ImportResult& result, const Rows& rows, bool has_cycle) {
  const std::vector<Record>& recs = rows.recs;
  const std::vector<int64_t>& step = rows.step;
  size_t unknown_status = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (!status_name(recs[i].status)) ++unknown_status;
    if (i == 0) continue;
    if (step[i] != step[i - 1]) {
      result.events.push_back(EventData{rows.t_ns[i], "step_change",
                                        fmt::format("step {} -> {} (Step_Index {}, {})", step[i - 1], step[i],
                                                    recs[i].step_index, status_text(recs[i].status))});
    }
    if (has_cycle && recs[i].cycle != recs[i - 1].cycle) {
      result.events.push_back(EventData{rows.t_ns[i], "cycle_change",
                                        fmt::format("cycle {} -> {}", recs[i - 1].cycle, recs[i].cycle)});
    }
  }
  if (unknown_status > 0) {
    result.assumptions.push_back(
        fmt::format("{} row(s) carry a status code not in Neware's table; named 'status N' in step events",
                    unknown_status));
  }
}

}  // namespace

void Bytes::need(size_t offset, size_t length, std::string_view what) const {
  if (offset > data_.size() || length > data_.size() - offset) {
    fail(
        fmt::format("{} needs bytes {}..{} but the data ends at byte {}; the file is truncated "
                    "or corrupt",
                    what, offset, offset + length, data_.size()));
  }
}

void Bytes::fail(const std::string& message) const { throw ImportError(*file_, 0, "", message); }

Bytes Bytes::slice(size_t offset, size_t length, std::string_view what) const {
  need(offset, length, what);
  return Bytes(data_.substr(offset, length), *file_);
}

uint8_t Bytes::u8(size_t offset, std::string_view what) const {
  need(offset, 1, what);
  return static_cast<uint8_t>(data_[offset]);
}

uint16_t Bytes::u16(size_t offset, std::string_view what) const {
  need(offset, 2, what);
  const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + offset);
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

uint32_t Bytes::u32(size_t offset, std::string_view what) const {
  need(offset, 4, what);
  const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + offset);
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

uint64_t Bytes::u64(size_t offset, std::string_view what) const {
  return static_cast<uint64_t>(u32(offset, what)) | (static_cast<uint64_t>(u32(offset + 4, what)) << 32);
}

float Bytes::f32(size_t offset, std::string_view what) const {
  return std::bit_cast<float>(u32(offset, what));
}

std::string Bytes::c_string(size_t offset, size_t max_len) const {
  std::string out;
  for (size_t i = offset; i < data_.size() && i < offset + max_len; ++i) {
    const char c = data_[i];
    if (c == '\0') break;
    if (c < ' ' || c > '~') return {};
    out += c;
  }
  return out;
}

std::optional<std::string_view> status_name(int code) {
  switch (code) {
    case 1: return "CC_Chg";
    case 2: return "CC_DChg";
    case 3: return "CV_Chg";
    case 4: return "Rest";
    case 5: return "Cycle";
    case 7: return "CCCV_Chg";
    case 8: return "CP_DChg";
    case 9: return "CP_Chg";
    case 10: return "CR_DChg";
    case 13: return "Pause";
    case 16: return "Pulse";
    case 17: return "SIM";
    case 19: return "CV_DChg";
    case 20: return "CCCV_DChg";
    case 21: return "Control";
    case 22: return "OCV";
    case 26: return "CPCV_DChg";
    case 27: return "CPCV_Chg";
    default: return std::nullopt;
  }
}

std::optional<double> range_multiplier_ma(int32_t range) {
  // Ranges sharing a factor, one group per line (format notes section 2).
  struct Group {
    double factor;
    std::initializer_list<int32_t> ranges;
  };
  static const Group kGroups[] = {
      {10.0, {-100000000}},
      {1e-2,
       {-200000, -100000, -60000, -50000, -40000, -30000, -20000, -12000, -10000, -6000, -5000, -3000, -2000,
        -1000}},
      {1e-3, {-500, -100}},
      {1e-4, {-50, -25, -20, -10}},
      {1e-5, {-5, -2, -1}},
      {0.0, {0}},
      {1e-4, {1, 2, 5}},
      {1e-3, {10, 20, 25, 50}},
      {1e-2, {100, 200, 250, 500}},
      {1e-1, {1000, 6000, 10000, 12000, 20000, 30000, 40000, 50000, 60000, 100000, 200000}},
  };
  for (const Group& g : kGroups) {
    for (int32_t r : g.ranges)
      if (r == range) return g.factor;
  }
  return std::nullopt;
}

std::string without_file(const ImportError& e) {
  const std::string what = e.what();
  const std::string prefix = e.file() + ": ";
  return what.compare(0, prefix.size(), prefix) == 0 ? what.substr(prefix.size()) : what;
}

void fail_time(const Bytes& bytes, long double ns, const std::string& what) {
  bytes.fail(fmt::format("{} holds the time {:g} s, which no test lasts; the file is corrupt", what,
                         static_cast<double>(ns / 1e9L)));
}

IntegerRecord decode_integer_record(const Bytes& r, const IntegerRecordLayout& layout,
                                    const std::function<std::string()>& what) {
  IntegerRecord out;
  Record& rec = out.record;
  rec.index = r.u32(layout.index, kField);
  rec.status = r.u8(layout.status, kField);
  if (rec.index == 0 || (layout.status_zero_is_no_row && rec.status == 0)) return out;  // NoRow
  rec.cycle = static_cast<int64_t>(r.u32(layout.cycle, kField)) + 1;
  rec.step_index =
      layout.step_index_bytes == 2 ? r.u16(layout.step_index, kField) : r.u8(layout.step_index, kField);
  rec.step_key = layout.step_key ? r.u32(*layout.step_key, kField) : static_cast<uint64_t>(rec.step_index);
  rec.time_ns = checked_time_ns(r, static_cast<long double>(r.u64(layout.time_ms, kField)), 1e6L, what);
  out.range = r.i32(layout.range, kField);
  const auto mult = range_multiplier_ma(out.range);
  if (!mult) {
    out.outcome = IntegerRecordOutcome::UnknownRange;
    return out;
  }
  rec.voltage_v = r.i32(layout.voltage, kField) / 1e4;
  rec.current_a = r.i32(layout.current, kField) * *mult / 1e3;
  // Stored integer x mult / 3600 = mAh (mWh); x 3.6 -> C (J): integer x mult / 1000.
  const auto amount = [&](size_t k) {
    return static_cast<double>(r.i64(layout.amounts + 8 * k, kField)) * *mult / 1e3;
  };
  rec.charge_capacity_c = amount(0);
  rec.discharge_capacity_c = amount(1);
  rec.charge_energy_j = amount(2);
  rec.discharge_energy_j = amount(3);
  CivilTime c;
  c.year = r.u16(layout.date, kField);
  c.month = r.u8(layout.date + 2, kField);
  c.day = r.u8(layout.date + 3, kField);
  c.hour = r.u8(layout.date + 4, kField);
  c.minute = r.u8(layout.date + 5, kField);
  c.second = r.u8(layout.date + 6, kField);
  if (civil_is_valid(c)) {
    rec.has_wall = true;
    rec.wall_ns = civil_to_ns(c);
  }
  out.outcome = IntegerRecordOutcome::Row;
  return out;
}

ImportResult assemble(Decoded d, const ImportOptions& options, TimeContext& times) {
  const std::string& path = times.file();
  std::vector<Record>& recs = d.records;
  if (options.kind != Kind::Cycler) {
    throw ImportError(path, 0, "",
                      "this is a Neware battery-cycler file; import it as cycler, not as ms or strain");
  }
  if (recs.empty()) {
    throw ImportError(path, 0, "",
                      "no data records found; the file holds no measurements or is not a "
                      "complete Neware file");
  }

  // 1. One row per Index, in Index order (the first record of a repeated Index is kept).
  IndexDamage index_damage = check_index_sequence(recs);
  const size_t repeated = keep_first_per_index(recs);
  const size_t n = recs.size();

  ImportResult result;
  result.format = d.format;
  result.rows = n;
  for (const std::string& note : d.notes) result.assumptions.push_back(note);
  result.damage = std::move(d.damage);
  const size_t first_index_damage = result.damage.size();
  for (Damage& dmg : index_damage.damage) result.damage.push_back(std::move(dmg));
  if (repeated > 0) {
    result.damage.push_back(Damage{"the records", fmt::format("{} record(s) repeat an earlier row number (Index); "
                                                              "the first of each was kept",
                                                              repeated),
                                   repeated, std::nullopt});
  }

  // 2. Step number; 3. running test time.
  const std::vector<int64_t> step = number_steps(recs);
  const std::vector<int64_t> test_ns = running_test_time_ns(recs, step, path, result.assumptions);

  // 4. Absolute start, then every row's absolute time.
  const WallClock wall = find_wall_clock(d, times);
  times.place_start(result, start_from_wall_clock(wall, test_ns, path));
  std::vector<int64_t> t_ns(n);
  for (size_t i = 0; i < n; ++i) t_ns[i] = add_or_fail(result.start_ns, test_ns[i], path);
  place_index_damage(result, first_index_damage, index_damage.at_index, recs, t_ns);
  note_wall_clock_drift(wall, test_ns, times.start_override().has_value(), result.assumptions);

  // 5. Channels; 6. events where the step or the cycle changes.
  apply_current_sign(recs, options.invert_current, result.assumptions);
  const Rows rows{recs, t_ns, step};
  add_record_channels(result, rows, d.has_cycle);
  add_aux_channels(result, d.aux, rows);
  add_step_cycle_events(result, rows, d.has_cycle);

  times.finish(result);
  return result;
}

}  // namespace opsync::import::neware
