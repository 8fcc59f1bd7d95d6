// Column-name recognition: which header is time, voltage, current, capacity..., in which unit,
// and the factor to SI (V, A, C, J, s). Also applies the user's explicit "role=header" mapping
// (--columns) and reports which headers were used and which were skipped.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "import/import_types.h"

namespace opsync::import {

enum class Role {
  None,
  Time,               // relative time (s, min, h; or "Nd HH:MM:SS" text)
  DateTime,           // absolute date-time (ISO, US text, Unix seconds)
  TimeNs,             // opsync's own t_ns column: absolute integer ns
  Voltage,
  Current,
  Capacity,
  ChargeCapacity,
  DischargeCapacity,
  Energy,
  ChargeEnergy,
  DischargeEnergy,
  Step,
  Cycle,
  State,              // Maccor State/Md letters
  Dq,                 // BioLogic dq/mA.h, to derive a missing current
  Mass,               // long-format MS: m/z column
  IonCurrent,         // long-format MS: the ion current column
  ScanNumber,         // strain CSV
  ScanStart,
  ScanEnd,
  Label,
};

// The role's name as used in --columns and in channel names ("charge_capacity").
std::string_view role_name(Role role);
std::optional<Role> role_from_name(std::string_view name);

// A header split into its name and unit: "Ewe/V" -> ("Ewe", "V"), "Test_Time(s)" ->
// ("Test_Time", "s"), "Voltage [V]", "voltage_v" -> ("voltage", "v"), "Amps" -> ("Amps", "").
struct HeaderParts {
  std::string name;
  std::string unit;
};
HeaderParts split_header(std::string_view header);

// Lowercase name with spaces, '_', '-', '.', '<', '>', '(', ')' removed: "Test_Time" ->
// "testtime", "(Q-Qo)" -> "qqo", "<I>" -> "i", "DPt Time" -> "dpttime".
std::string name_key(std::string_view name);

// How one header was understood.
struct HeaderInfo {
  Role role = Role::None;
  int priority = 0;         // when several headers fit one role, the lowest wins
  std::string unit;         // as written ("mA.h"), or the assumed unit when none was written
  bool unit_stated = false;
  bool unit_known = true;   // false: the name fits `role` but the unit is not one we convert
  double scale = 1.0;       // value * scale = value in si_unit
  long double time_ns_per_unit = 1e9L;  // Time/ScanStart/ScanEnd: ns per unit
  std::string si_unit;      // "V", "A", "C", "J", "s", "" (counts)
};

// Recognises one header for the given kind of import (Ms adds mass/ion current, Strain adds
// scan/start/end/label; voltage/current/... are cycler roles).
HeaderInfo classify_header(std::string_view header, Kind kind);

// Unit of a header already assigned to `role` (e.g. by --columns): scale to SI, or
// unit_known=false. An empty unit gets the role's default (s, V, A, Ah, Wh) with unit_stated=false.
HeaderInfo unit_for_role(Role role, std::string_view unit);

struct MappedColumn {
  size_t index = 0;      // field index in a data row
  std::string header;    // as written
  HeaderInfo info;
  bool from_option = false;
};

struct ColumnMap {
  std::vector<MappedColumn> columns;   // at most one per role
  std::vector<size_t> unused;          // indices of non-empty headers not mapped to a role
  std::vector<Role> disabled;          // roles the user declared absent ("current=none")
  const MappedColumn* get(Role role) const;
  bool is_disabled(Role role) const;
};

// Maps headers to roles. `overrides` are (role, header) pairs from --columns; a header that is
// not in the file, or an unknown role name, is an ImportError (line `header_line`) that lists
// what is available. A recognised role whose only candidates have units we cannot convert is an
// ImportError naming that column. Empty headers are ignored.
ColumnMap map_columns(const std::vector<std::string>& headers, Kind kind,
                      const std::vector<std::pair<std::string, std::string>>& overrides,
                      const std::string& file, size_t header_line);

// Assumption lines: one per mapped column ("column 'Ewe/V' -> voltage (V)") and one listing
// the skipped headers.
void describe_columns(const ColumnMap& map, const std::vector<std::string>& headers,
                      std::vector<std::string>& assumptions);

// "a, b, c" of the non-empty headers (for error messages), shortened after `max` names.
std::string list_headers(const std::vector<std::string>& headers, size_t max = 40);

}  // namespace opsync::import
