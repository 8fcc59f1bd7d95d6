// Delimited-text primitives shared by every reader: delimiter detection, field splitting with
// double-quoted fields, locale-independent number parsing (decimal point or decimal comma),
// missing-value markers, exact seconds -> ns and elapsed-time text ("2d 02:52:21.57").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace opsync::import {

// Spaces, tabs and a stray CR removed from both ends.
std::string_view trim(std::string_view s);

// Tab if the line has one; otherwise ';' or ',' (whichever occurs more outside quotes).
char detect_delimiter(std::string_view header_line);

// Splits `line` at `delimiter` into `fields` (cleared first). A field that starts with '"' runs
// to the matching '"' and may contain the delimiter; the view excludes the quotes (a doubled
// "" inside stays doubled). Views point into `line`.
void split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields);

// True for cells that mean "no value": empty, NaN, N/A, NA, #N/A, null, XXXX (old EC-Lab), "-".
bool is_missing_text(std::string_view trimmed);

enum class NumberStatus { Ok, Missing, Invalid };
struct Number {
  NumberStatus status = NumberStatus::Invalid;
  double value = 0.0;
};

// Parses a decimal number ("3.301", "-1.1444092e-05", "+2", and with `decimal_comma` also
// "3,301" and "2,749999930529157E-002") with std::from_chars, so the C locale does not matter.
// Infinite or out-of-range values are Invalid; missing markers are Missing.
Number parse_number(std::string_view field, bool decimal_comma);

// Seconds text to exact integer ns (via core seconds_text_to_ns), with decimal comma allowed.
std::optional<int64_t> parse_seconds_ns(std::string_view field, bool decimal_comma);

// Decimal text times `ns_per_unit` (e.g. minutes: 6e10) to ns, via long double, rounded.
std::optional<int64_t> parse_scaled_ns(std::string_view field, long double ns_per_unit,
                                       bool decimal_comma);

// Elapsed-time text "[Nd ]H:MM:SS[.fff]" (Maccor TestTime "  0d 00:02:0.0099999") to ns.
std::optional<int64_t> parse_elapsed_ns(std::string_view field);

// A whole integer ("1705501321146614000"); no fraction, no exponent.
std::optional<int64_t> parse_int64(std::string_view field);

}  // namespace opsync::import
