// Splits a cycler record into half-cycles (charge or discharge) by the sign of the current.
// Rows with |I| below a rest threshold end a half-cycle, as does a change of sign; this is the
// step split that cellpy and navani do before dQ/dV, done here from the current alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace opsync::correlate {

// Positive current charges the cell (the cycler convention opsync stores).
enum class Direction { charge, discharge };
std::string_view to_string(Direction d);

// One cycler channel on the reference clock. capacity_c is optional: empty when the cycler gave
// none; otherwise the charge counter in coulombs, same length as t_ns.
struct CyclerRecord {
  std::vector<int64_t> t_ns;
  std::vector<double> voltage_v;
  std::vector<double> current_a;
  std::vector<double> capacity_c;
};

// Throws InputError if the columns differ in length, time does not increase, or values are not finite.
void validate(const CyclerRecord& rec);

struct HalfCycleOptions {
  double rest_current_a = 1e-6;  // |I| below this is rest (open circuit within cycler noise)
  std::size_t min_rows = 3;      // shorter runs (a stray sample across zero) are not half-cycles
};

struct HalfCycle {
  std::size_t index = 0;  // 0-based count of kept half-cycles
  Direction direction = Direction::charge;
  std::size_t begin = 0;  // first row
  std::size_t end = 0;    // one past the last row
};

std::vector<HalfCycle> split_half_cycles(const CyclerRecord& rec, const HalfCycleOptions& opt = {});

// Cycle number of each half-cycle, given their directions in order: a cycle starts at every
// half-cycle of the first one's direction (charge then discharge for a record that starts on
// charge; a record that starts with a discharge pairs each discharge with the charge after it).
std::vector<std::size_t> cycle_numbers(const std::vector<Direction>& directions);

// Charge passed since row `begin`, positive, rows [begin, end): from the capacity column when the
// record has one, else by the trapezoid of |I| dt. A column counts one way through a half-cycle,
// but some cyclers reset it at every step change (Maccor's CC -> CV step inside one charge): a
// step of the column against its run by more than the charge the current could have passed is a
// reset, and that interval takes the trapezoid of |I| dt instead. `resets`, when given, counts them.
std::vector<double> charge_passed_c(const CyclerRecord& rec, std::size_t begin, std::size_t end,
                                    std::size_t* resets = nullptr);

}  // namespace opsync::correlate
