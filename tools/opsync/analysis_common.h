// Small pieces the analysis commands share: time zero of a session's analyses, seconds and ISO
// strings from int64 ns, JSON numbers that turn NaN and absent values into null.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "opsync/session_data.h"

namespace opsync::cli {

// Analyses report times in seconds after this instant: the first cycler row, else the first MS
// reading, else the session start.
int64_t analysis_t0_ns(const SessionData& d);

inline double seconds_after(int64_t t0_ns, int64_t t_ns) { return static_cast<double>(t_ns - t0_ns) * 1e-9; }

// A double as JSON, null when it is not finite.
nlohmann::json number_or_null(double v);
nlohmann::json seconds_or_null(int64_t t0_ns, const std::optional<int64_t>& t_ns);

// "4.4712" / "-" for tables.
std::string fixed_or_dash(double v, int decimals);
std::string sci_or_dash(double v, int decimals);

}  // namespace opsync::cli
