// Half-cycle split by current sign; see half_cycles.h.
#include "correlate/half_cycles.h"

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

}  // namespace opsync::correlate
