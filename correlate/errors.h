// Error type of the correlator: bad or missing input is reported by throwing InputError with a
// message that says what was wrong and what to do; the future CLI turns it into a user message.
#pragma once

#include <stdexcept>
#include <string>

namespace opsync::correlate {

class InputError : public std::invalid_argument {
 public:
  explicit InputError(const std::string& what) : std::invalid_argument(what) {}
};

// 1 mAh = 3.6 C. Capacities are coulombs inside the library; mAh only at output edges.
inline constexpr double kCoulombPerMah = 3.6;
inline constexpr double kSecondsPerNs = 1e-9;

}  // namespace opsync::correlate
