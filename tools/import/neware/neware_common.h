// Shared by the Neware .nda and .ndax readers: bounds-checked little-endian reads, the tables
// every BTS version uses (status codes, current ranges), one decoded record, the decode of the
// integer record that .nda v29 and .ndc v5 share, and the step that turns decoded records into
// channels, events and assumption lines (running test time rebuilt from step time, start from
// the first wall-clock stamp). See shared/formats/neware-nda-ndax.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "import/import_types.h"
#include "import/common/time_context.h"

namespace opsync::import::neware {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kSecondsPerHour = 3600.0;  // mAh -> mAs, mWh -> mWs

// Little-endian reads from a byte range; a read past the end throws ImportError naming `what`
// (e.g. "record 12 at byte 85643") so a truncated file never reads out of bounds.
class Bytes {
 public:
  Bytes(std::string_view data, const std::string& file) : data_(data), file_(&file) {}

  size_t size() const { return data_.size(); }
  std::string_view view() const { return data_; }
  // The sub-range [offset, offset + length), or an ImportError when it does not fit.
  Bytes slice(size_t offset, size_t length, std::string_view what) const;

  uint8_t u8(size_t offset, std::string_view what) const;
  uint16_t u16(size_t offset, std::string_view what) const;
  uint32_t u32(size_t offset, std::string_view what) const;
  uint64_t u64(size_t offset, std::string_view what) const;
  int16_t i16(size_t offset, std::string_view what) const { return static_cast<int16_t>(u16(offset, what)); }
  int32_t i32(size_t offset, std::string_view what) const { return static_cast<int32_t>(u32(offset, what)); }
  int64_t i64(size_t offset, std::string_view what) const { return static_cast<int64_t>(u64(offset, what)); }
  float f32(size_t offset, std::string_view what) const;

  // Printable text of at most `max_len` bytes from `offset`, up to the first NUL ("" if out of range).
  std::string c_string(size_t offset, size_t max_len) const;

  [[noreturn]] void fail(const std::string& message) const;

 private:
  void need(size_t offset, size_t length, std::string_view what) const;
  std::string_view data_;
  const std::string* file_;
};

// Status (state) code -> Neware's name ("CC_Chg"); nullopt for codes not in the table.
std::optional<std::string_view> status_name(int code);

// Current-range code of the integer formats (v29 .nda, v5 .ndc) -> factor giving mA from the
// stored integer; nullopt for an unknown range.
std::optional<double> range_multiplier_ma(int32_t range);

// One row of a Neware file, in SI units, before the running test time is rebuilt.
struct Record {
  int64_t index = 0;       // the file's row number (Index, 1-based)
  int64_t cycle = 0;       // cycle number as stored, made 1-based
  int64_t step_index = 0;  // schedule step (Step_Index)
  int status = 0;          // state code (status_name)
  uint64_t step_key = 0;   // changes exactly when a new step starts
  int64_t time_ns = 0;     // "Time" as stored: step time in most files, test time in some
  double voltage_v = kNaN;
  double current_a = kNaN;          // as stored: + in charge states, - in discharge states
  double charge_capacity_c = kNaN;  // NaN: not stored on this row
  double discharge_capacity_c = kNaN;
  double charge_energy_j = kNaN;
  double discharge_energy_j = kNaN;
  bool has_wall = false;
  int64_t wall_ns = 0;  // wall clock: UTC ns, or naive civil fields read as if UTC (wall_naive)
};

// A per-row auxiliary quantity (thermocouple), joined to the records on Index.
struct AuxSeries {
  std::string name;                                  // temperature_aux1
  std::string unit;                                  // degC
  std::string quantity;                              // "temperature (auxiliary channel 1)"
  std::vector<std::pair<int64_t, double>> by_index;  // (Index, value)
};

// Everything a reader decoded from one file.
struct Decoded {
  std::string format;  // "neware-nda", "neware-ndax"
  std::vector<Record> records;
  std::vector<AuxSeries> aux;
  bool has_cycle = true;           // false: the format stores no cycle number
  bool wall_naive = false;         // wall_ns are local civil fields; the zone is assumed
  std::string wall_what;           // where the wall clock comes from, for the start's assumption line
  std::vector<std::string> notes;  // format, version and layout lines for the assumptions
  std::vector<Damage> damage;      // what the file says is inconsistent (records out of step, ...)
};

// Where the fields of Neware's integer record sit. .nda v29 records and .ndc v5 data.ndc records
// hold the same fields, scaled the same way (current, capacities and energies by the record's
// current-range code), at offsets that differ between the two (format notes sections 2 and 5).
struct IntegerRecordLayout {
  size_t index = 0;                // u32 Index
  size_t cycle = 0;                // u32 cycle, stored 0-based
  size_t step_index = 0;           // Step_Index, u16 or u8 (step_index_bytes)
  size_t step_index_bytes = 1;     // 2 in v29, 1 in v5
  size_t status = 0;               // u8 state code
  std::optional<size_t> step_key;  // u32 read as the step key (v29: Step_Index, Status and the
                                   // byte after); none: Step_Index is the step key (v5)
  size_t time_ms = 0;              // u64 Time, ms
  size_t voltage = 0;              // i32, 1e-4 V
  size_t current = 0;              // i32, x range factor -> mA
  size_t amounts = 0;              // 4 x i64 from here: charge capacity, discharge capacity,
                                   // charge energy, discharge energy (x range factor / 3600 -> mAh, mWh)
  size_t date = 0;                 // u16 year, then u8 month, day, hour, minute, second (local)
  size_t range = 0;                // i32 current-range code (range_multiplier_ma)
  bool status_zero_is_no_row = false;  // v29: status 0, like Index 0, marks a record that is no row
};

// What decode_integer_record made of one record.
enum class IntegerRecordOutcome {
  Row,           // `record` holds the row
  NoRow,         // Index 0 (or status 0 where the layout says so): not a data row
  UnknownRange,  // `range` is not in Neware's range table: the values cannot be scaled
};
struct IntegerRecord {
  IntegerRecordOutcome outcome = IntegerRecordOutcome::NoRow;
  Record record;
  int32_t range = 0;  // the record's current-range code
};

// Decodes one bounds-checked integer record `r` laid out as `layout`. What to do with a record
// that is no row or has an unknown range is the caller's (a v29 record is damage, a v5 one
// fails the file), so it is returned, not thrown. Throws ImportError naming `what()` when the
// stored Time cannot be a test time (checked_time_ns).
IntegerRecord decode_integer_record(const Bytes& r, const IntegerRecordLayout& layout,
                                    const std::function<std::string()>& what);

// Index is the cycler's running row number (1, 2, 3, ...): a missing Index is a lost row and a
// repeated one a copied block, both recorded as damage (the first of a repeated Index is kept).
// Sorts and de-duplicates by Index, numbers the steps, rebuilds the running test time, places
// the start, and builds channels (voltage, current, capacities, energies, step, cycle, aux),
// step/cycle events and assumption lines. Throws ImportError when there are no records.
ImportResult assemble(Decoded decoded, const ImportOptions& options, TimeContext& times);

// The message of an ImportError without its "file: " prefix, to reuse it in a Damage.
std::string without_file(const ImportError& e);

// What reads inside an already bounds-checked record slice are called (they cannot fail).
inline constexpr std::string_view kField = "a record field";

// A stored time (`value` units of `ns_per_unit` ns) -> ns, refusing values that cannot be a test
// time (over 100 years, i.e. a corrupt field) with an ImportError naming `what()` (called only
// then, so callers can describe the record lazily).
[[noreturn]] void fail_time(const Bytes& bytes, long double ns, const std::string& what);
inline constexpr long double kMaxTimeNs = 100.0L * 365.25L * 86400.0L * 1e9L;
template <typename What>
int64_t checked_time_ns(const Bytes& bytes, long double value, long double ns_per_unit, What&& what) {
  const long double ns = value * ns_per_unit;
  if (!(ns <= kMaxTimeNs && ns >= -kMaxTimeNs)) fail_time(bytes, ns, what());
  return static_cast<int64_t>(ns < 0 ? ns - 0.5L : ns + 0.5L);
}

}  // namespace opsync::import::neware
