// What an importer produces from a user's file, before anything touches the store: channels of
// (t_ns, value) in SI units, events (step/cycle changes), scans with per-scan values, and the
// assumptions the importer made, so the user sees what was inferred. Pure data, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace opsync::import {

// Which kind of data the user says the file holds (`opsync import cycler|ms|strain`).
enum class Kind { Cycler, Ms, Strain };

struct ChannelData {
  std::string name;      // voltage, current, capacity, charge_capacity, discharge_capacity, energy,
                         // step, cycle, ion_current_m32, ...
  std::string unit;      // SI: V, A, C (coulomb), J, "" for counts
  std::string quantity;  // human text: "cell voltage", "O2 ion current (m/z 32)", ...
  std::vector<int64_t> t_ns;
  std::vector<double> values;
};

struct EventData {
  int64_t t_ns = 0;
  std::string kind;    // step_change, cycle_change
  std::string detail;
};

struct ScanData {
  int64_t number = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string label;
  std::vector<std::pair<std::string, double>> values;  // (name, value); units in value_units
  std::vector<std::string> value_units;                // parallel to values
};

// What the file itself says is inconsistent (a count, a length, a marker, a sequence of record
// numbers): rows were lost or cannot be trusted. import_file() refuses a file with damage unless
// --salvage is given; then the readable rows are imported and each Damage becomes an event.
struct Damage {
  std::string where;              // "record 15 at byte 2314", "line 4711", "page 12"
  std::string what;               // "Index jumps from 14 to 63"
  size_t rows = 0;                // rows lost or left out because of it (0: none or not known)
  std::optional<int64_t> t_ns;    // where in the file's time, when known
};

struct ImportResult {
  std::string format;            // "biologic-mpt", "maccor-text", "arbin-csv", "zilien-tsv", "csv", ...
  std::vector<ChannelData> channels;
  std::vector<EventData> events;
  std::vector<ScanData> scans;
  std::vector<std::string> assumptions;  // one line each: units read, zone assumed, sign convention...
  size_t rows = 0;               // data rows read from the file
  int64_t t_first_ns = 0;        // span of the imported data, after clock offset
  int64_t t_last_ns = 0;
  bool has_absolute_start = false;  // false: times are relative to an assumed start
  int64_t start_ns = 0;          // absolute start of the file's time axis (UTC, before offset)
  std::vector<Damage> damage;    // empty for an intact file; only ever non-empty with salvage
};

struct ImportOptions {
  Kind kind = Kind::Cycler;
  // Explicit column mapping "role=header" pairs, e.g. {"time","Test (Sec)"}, {"voltage","Ewe/V"}.
  std::vector<std::pair<std::string, std::string>> columns;
  double clock_offset_s = 0.0;   // the file's clock ran this many seconds ahead: subtracted
  std::string time_zone = "UTC"; // zone for files that store naive local time
  std::string start_iso;         // overrides / supplies the absolute start ("" = from file)
  bool invert_current = false;   // for files whose convention is discharge-positive
  // Where to place a file without absolute time when there is no --start (e.g. the start of
  // the session it goes into), and how the assumption line names it. Unset: 1970-01-01.
  std::optional<int64_t> relative_start_ns;
  std::string relative_start_what;
  // Import what is readable from a damaged file (Damage entries, turned into events) instead
  // of refusing it.
  bool salvage = false;
};

// Bad input: names the file, the 1-based line and the column where it went wrong.
class ImportError : public std::runtime_error {
 public:
  ImportError(std::string file, size_t line, std::string column, const std::string& what)
      : std::runtime_error(format(file, line, column, what)),
        file_(std::move(file)), line_(line), column_(std::move(column)) {}
  const std::string& file() const { return file_; }
  size_t line() const { return line_; }
  const std::string& column() const { return column_; }

 private:
  static std::string format(const std::string& file, size_t line, const std::string& column,
                            const std::string& what) {
    // Appends only: GCC 12 -O3 flags `"lit" + std::string` with a false -Wrestrict warning.
    std::string s = file;
    if (line > 0) {
      s += ':';
      s += std::to_string(line);
    }
    if (!column.empty()) {
      s += ": column '";
      s += column;
      s += '\'';
    }
    s += ": ";
    s += what;
    return s;
  }
  std::string file_;
  size_t line_;
  std::string column_;
};

// Reads `path` as `options.kind`, detecting the format by content. Throws ImportError, also for
// a damaged file unless options.salvage (see settle_damage).
ImportResult import_file(const std::string& path, const ImportOptions& options);

// What import_file() does with a reader's damage: without salvage an ImportError naming each
// inconsistency, where it is and how many rows it affects; with salvage one 'import_skipped'
// event per Damage and an assumption line. Nothing to do for an intact file.
void settle_damage(ImportResult& result, const ImportOptions& options, const std::string& path);

}  // namespace opsync::import
