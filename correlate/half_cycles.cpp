// Half-cycle split by current sign; see half_cycles.h.
#include "correlate/half_cycles.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "correlate/errors.h"

namespace opsync::correlate {

std::string_view to_string(Direction d) { return d == Direction::charge ? "charge" : "discharge"; }

void validate(const CyclerRecord& rec) {
  const std::size_t n = rec.t_ns.size();
  if (rec.voltage_v.size() != n || rec.current_a.size() != n) {
    throw InputError(fmt::format("cycler record: columns differ in length (t {}, voltage {}, current {})", n,
                                 rec.voltage_v.size(), rec.current_a.size()));
  }
  if (!rec.capacity_c.empty() && rec.capacity_c.size() != n) {
    throw InputError(fmt::format("cycler record: capacity column has {} rows, time has {}; pass it empty "
                                 "to integrate the current instead",
                                 rec.capacity_c.size(), n));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && rec.t_ns[i] <= rec.t_ns[i - 1]) {
      throw InputError(fmt::format("cycler record: time does not increase at row {}", i));
    }
    if (!std::isfinite(rec.voltage_v[i]) || !std::isfinite(rec.current_a[i]) ||
        (!rec.capacity_c.empty() && !std::isfinite(rec.capacity_c[i]))) {
      throw InputError(fmt::format("cycler record: non-finite value at row {}", i));
    }
  }
}

std::vector<HalfCycle> split_half_cycles(const CyclerRecord& rec, const HalfCycleOptions& opt) {
  validate(rec);
  std::vector<HalfCycle> out;
  const std::size_t n = rec.t_ns.size();
  auto sign_of = [&](std::size_t i) {
    const double c = rec.current_a[i];
    if (std::abs(c) < opt.rest_current_a) return 0;
    return c > 0 ? 1 : -1;
  };
  std::size_t i = 0;
  while (i < n) {
    const int s = sign_of(i);
    std::size_t j = i + 1;
    while (j < n && sign_of(j) == s) ++j;
    if (s != 0 && j - i >= opt.min_rows) {
      out.push_back({out.size(), s > 0 ? Direction::charge : Direction::discharge, i, j});
    }
    i = j;
  }
  return out;
}

std::vector<std::size_t> cycle_numbers(const std::vector<Direction>& directions) {
  std::vector<std::size_t> out(directions.size());
  std::size_t cycle = 0;
  for (std::size_t h = 0; h < directions.size(); ++h) {
    if (h > 0 && directions[h] == directions.front()) ++cycle;
    out[h] = cycle;
  }
  return out;
}

std::vector<double> charge_passed_c(const CyclerRecord& rec, std::size_t begin, std::size_t end, std::size_t* resets) {
  std::vector<double> q(end > begin ? end - begin : 0, 0.0);
  std::size_t found = 0;
  auto trapezoid = [&](std::size_t i) {
    // Differences of int64 ns first, then to double: absolute epoch times never pass through doubles.
    const double dt_s = static_cast<double>(rec.t_ns[i] - rec.t_ns[i - 1]) * kSecondsPerNs;
    return 0.5 * (std::abs(rec.current_a[i]) + std::abs(rec.current_a[i - 1])) * dt_s;
  };
  if (rec.capacity_c.empty()) {
    for (std::size_t i = begin + 1; i < end; ++i) q[i - begin] = q[i - begin - 1] + trapezoid(i);
    return q;
  }
  // The counter's direction through this half-cycle: the sign that most of its steps take.
  long ups = 0, downs = 0;
  for (std::size_t i = begin + 1; i < end; ++i) {
    const double d = rec.capacity_c[i] - rec.capacity_c[i - 1];
    ups += d > 0;
    downs += d < 0;
  }
  const double run = ups >= downs ? 1.0 : -1.0;
  for (std::size_t i = begin + 1; i < end; ++i) {
    const double step = run * (rec.capacity_c[i] - rec.capacity_c[i - 1]);
    const double possible = trapezoid(i);
    double add = step;
    if (step < -(2 * possible + 1e-9)) {  // went back further than any charge could explain: a reset
      add = possible;
      ++found;
    }
    q[i - begin] = q[i - begin - 1] + std::max(add, 0.0);
  }
  if (resets != nullptr) *resets = found;
  return q;
}

}  // namespace opsync::correlate
