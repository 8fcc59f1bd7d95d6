// Neware readers' shared part: byte reads, status/range tables, and records -> ImportResult.
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

  // 1. One row per Index, in Index order (the first record of a repeated Index is kept). The
  // Index runs 1, 2, 3, ...: a jump is rows lost, a repeat a block written twice.
  std::vector<Damage> index_damage;
  std::vector<int64_t> damage_index;  // per index_damage: the Index where it shows, to place it in time
  for (size_t i = 0; i < recs.size(); ++i) {
    const int64_t expected = i == 0 ? 1 : recs[i - 1].index + 1;
    if (recs[i].index > expected) {
      index_damage.push_back(Damage{
          fmt::format("record {} of the file", i + 1),
          fmt::format("Index jumps from {} to {}: rows {}..{} are missing", expected - 1, recs[i].index, expected,
                      recs[i].index - 1),
          static_cast<size_t>(recs[i].index - expected), std::nullopt});
      damage_index.push_back(recs[i].index);
    } else if (recs[i].index < expected) {
      index_damage.push_back(Damage{fmt::format("record {} of the file", i + 1),
                                    fmt::format("Index goes back from {} to {} (rows stored twice or out of order)",
                                                expected - 1, recs[i].index),
                                    0, std::nullopt});
      damage_index.push_back(recs[i].index);
    }
    if (index_damage.size() > 1000) break;  // enough to say what is wrong
  }
  std::stable_sort(recs.begin(), recs.end(),
                   [](const Record& a, const Record& b) { return a.index < b.index; });
  const size_t before = recs.size();
  recs.erase(std::unique(recs.begin(), recs.end(),
                         [](const Record& a, const Record& b) { return a.index == b.index; }),
             recs.end());
  const size_t n = recs.size();

  ImportResult result;
  result.format = d.format;
  result.rows = n;
  for (const std::string& note : d.notes) result.assumptions.push_back(note);
  result.damage = std::move(d.damage);
  const size_t first_index_damage = result.damage.size();
  for (Damage& dmg : index_damage) result.damage.push_back(std::move(dmg));
  if (before != n) {
    result.damage.push_back(Damage{"the records", fmt::format("{} record(s) repeat an earlier row number (Index); "
                                                              "the first of each was kept",
                                                              before - n),
                                   before - n, std::nullopt});
  }

  // 2. Step number: a new step whenever the step key changes.
  std::vector<int64_t> step(n);
  int64_t step_no = 1;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && recs[i].step_key != recs[i - 1].step_key) ++step_no;
    step[i] = step_no;
  }

  // 3. Running test time: the stored Time restarts in every step in most files.
  bool monotonic = true;
  for (size_t i = 1; i < n && monotonic; ++i) monotonic = recs[i].time_ns >= recs[i - 1].time_ns;
  std::vector<int64_t> rel(n);
  if (monotonic) {
    for (size_t i = 0; i < n; ++i) rel[i] = recs[i].time_ns;
    result.assumptions.push_back("the file's Time never decreases: taken as the running test time");
  } else {
    int64_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0 && step[i] != step[i - 1]) offset = add_or_fail(offset, recs[i - 1].time_ns, path);
      rel[i] = add_or_fail(recs[i].time_ns, offset, path);
    }
    result.assumptions.push_back(
        "the file's Time is step time (restarts in each step): test time = Time + the last Time "
        "of every earlier step (a step's first row, at Time 0, shares the time of the previous "
        "step's last row)");
  }

  // 4. Absolute start: the first wall-clock stamp minus the test time of its row.
  std::optional<StartSource> start;
  auto wall_utc = [&](const Record& r) {
    return d.wall_naive ? times.local_to_utc_ns(ns_to_civil(r.wall_ns)) : r.wall_ns;
  };
  size_t first_wall = n, last_wall = n;
  for (size_t i = 0; i < n; ++i) {
    if (!recs[i].has_wall) continue;
    if (first_wall == n) first_wall = i;
    last_wall = i;
  }
  if (first_wall < n) {
    const Record& r = recs[first_wall];
    const int64_t utc = wall_utc(r);
    start = StartSource{
        add_or_fail(utc, -rel[first_wall], path), d.wall_naive,
        fmt::format("{} of the first row (Index {}, {}{})", d.wall_what, r.index,
                    format_iso_utc(r.wall_ns, 3).substr(0, 23), d.wall_naive ? " local" : " UTC")};
    if (rel[first_wall] != 0) {
      start->what +=
          fmt::format(" minus its test time {}", format_seconds(static_cast<double>(rel[first_wall]) / 1e9));
    }
  }
  times.place_start(result, start);
  std::vector<int64_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = add_or_fail(result.start_ns, rel[i], path);
  for (size_t k = 0; k < damage_index.size(); ++k) {
    const auto at = std::lower_bound(recs.begin(), recs.end(), damage_index[k],
                                     [](const Record& r, int64_t index) { return r.index < index; });
    if (at != recs.end()) result.damage[first_index_damage + k].t_ns = t[static_cast<size_t>(at - recs.begin())];
  }

  // Wall clock and test time should advance together; pauses make the wall clock run ahead.
  if (first_wall < n && last_wall > first_wall && !times.start_override()) {
    const int64_t wall_span = wall_utc(recs[last_wall]) - wall_utc(recs[first_wall]);
    const int64_t test_span = rel[last_wall] - rel[first_wall];
    const int64_t diff = wall_span - test_span;
    if (std::abs(diff) > std::max<int64_t>(2 * kNsPerS, std::abs(test_span) / 1000)) {
      result.assumptions.push_back(
          fmt::format("the wall clock advanced {} over the file but the test time only {} (pauses are not "
                      "counted in test time); times follow the test time from the start",
                      format_seconds(static_cast<double>(wall_span) / 1e9),
                      format_seconds(static_cast<double>(test_span) / 1e9)));
    }
  }

  // 5. Channels.
  result.assumptions.push_back(
      "current sign: Neware native (+ in charge states, - in discharge "
      "states), kept");
  if (options.invert_current) {
    for (Record& r : recs) r.current_a = -r.current_a;
    result.assumptions.push_back(
        "current inverted (--invert-current): the file's positive "
        "direction is taken as discharge");
  }
  auto add_channel = [&](Role role, auto value_of, std::string quantity = {}) {
    ChannelSpec spec = channel_spec(role);
    ChannelData ch{spec.name, spec.unit, quantity.empty() ? spec.quantity : quantity, {}, {}};
    size_t non_finite = 0;
    for (size_t i = 0; i < n; ++i) {
      const double v = value_of(recs[i], i);
      if (std::isnan(v)) continue;  // not stored on this row
      if (!std::isfinite(v)) {
        ++non_finite;
        continue;
      }
      ch.t_ns.push_back(t[i]);
      ch.values.push_back(v);
    }
    if (non_finite > 0) {
      result.assumptions.push_back(fmt::format("{} infinite value(s) of {} left out", non_finite, spec.name));
    }
    if (!ch.t_ns.empty()) result.channels.push_back(std::move(ch));
  };
  add_channel(Role::Voltage, [](const Record& r, size_t) { return r.voltage_v; });
  add_channel(Role::Current, [](const Record& r, size_t) { return r.current_a; });
  add_channel(Role::ChargeCapacity, [](const Record& r, size_t) { return r.charge_capacity_c; });
  add_channel(Role::DischargeCapacity, [](const Record& r, size_t) { return r.discharge_capacity_c; });
  add_channel(Role::ChargeEnergy, [](const Record& r, size_t) { return r.charge_energy_j; });
  add_channel(Role::DischargeEnergy, [](const Record& r, size_t) { return r.discharge_energy_j; });
  add_channel(
      Role::Step, [&](const Record&, size_t i) { return static_cast<double>(step[i]); },
      "step number (running count of the test's steps)");
  if (d.has_cycle) {
    add_channel(
        Role::Cycle, [](const Record& r, size_t) { return static_cast<double>(r.cycle); },
        "cycle number as stored by the cycler");
  }
  result.assumptions.push_back(
      "capacities and energies as the cycler stores them (per step), in C and J (1 mAh = 3.6 C); "
      "step = running step number; cycle = the file's own cycle number (+1; NewareNDA's default "
      "instead starts a cycle at each charge after a discharge)");

  for (AuxSeries& aux : d.aux) {
    std::stable_sort(aux.by_index.begin(), aux.by_index.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    ChannelData ch{aux.name, aux.unit, aux.quantity, {}, {}};
    size_t j = 0, unmatched = 0;
    for (size_t i = 0; i < n; ++i) {
      while (j < aux.by_index.size() && aux.by_index[j].first < recs[i].index) ++j;
      if (j == aux.by_index.size() || aux.by_index[j].first != recs[i].index) {
        ++unmatched;
        continue;
      }
      const double v = aux.by_index[j].second;
      if (!std::isfinite(v)) continue;
      ch.t_ns.push_back(t[i]);
      ch.values.push_back(v);
    }
    if (unmatched > 0) {
      result.assumptions.push_back(fmt::format("{}: no value for {} of {} rows", aux.name, unmatched, n));
    }
    if (!ch.t_ns.empty()) result.channels.push_back(std::move(ch));
  }

  // 6. Events where the step or the cycle changes.
  size_t unknown_status = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!status_name(recs[i].status)) ++unknown_status;
    if (i == 0) continue;
    if (step[i] != step[i - 1]) {
      result.events.push_back(EventData{t[i], "step_change",
                                        fmt::format("step {} -> {} (Step_Index {}, {})", step[i - 1], step[i],
                                                    recs[i].step_index, status_text(recs[i].status))});
    }
    if (d.has_cycle && recs[i].cycle != recs[i - 1].cycle) {
      result.events.push_back(
          EventData{t[i], "cycle_change", fmt::format("cycle {} -> {}", recs[i - 1].cycle, recs[i].cycle)});
    }
  }
  if (unknown_status > 0) {
    result.assumptions.push_back(
        fmt::format("{} row(s) carry a status code not in Neware's table; named 'status N' in step events",
                    unknown_status));
  }

  times.finish(result);
  return result;
}

}  // namespace opsync::import::neware
