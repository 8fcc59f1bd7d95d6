// Date-time text as instruments write it: ISO 8601 (with or without zone), US
// "MM/DD/YYYY HH:MM:SS[.fff] [AM|PM]" (also '-' or '.' between date parts, '.' between time
// parts as EC-Lab headers do, date-only at midnight as Maccor writes), "23-Nov-23 3:56:11 PM".
#pragma once

#include <optional>
#include <string_view>

#include "core/time_format.h"

namespace opsync::import {

// Parses one date-time cell. A zone is reported only when the text carries one (ISO Z/offset).
std::optional<ParsedDateTime> parse_date_time_text(std::string_view text);

}  // namespace opsync::import
