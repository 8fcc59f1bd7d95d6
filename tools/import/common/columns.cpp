// Header -> role and unit recognition, and the --columns override logic.
#include "import/common/columns.h"

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

namespace opsync::import {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"'))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Unit text normalised for lookup: lowercase, no spaces, micro signs as 'u', middle dot and
// '*' as '.', stray '>' (from "<Ewe/V>") dropped.
std::string norm_unit(std::string_view u) {
  std::string out;
  for (size_t i = 0; i < u.size(); ++i) {
    const char c = u[i];
    if (c == ' ' || c == '>' || c == '<') continue;
    if (c == '*') {
      out += '.';
    } else if (u.substr(i, 2) == "\xC2\xB5" || u.substr(i, 2) == "\xCE\xBC") {  // µ, μ
      out += 'u';
      ++i;
    } else if (u.substr(i, 2) == "\xC2\xB7") {  // ·
      out += '.';
      ++i;
    } else {
      out += lower(c);
    }
  }
  return out;
}

enum class Family { Time, Voltage, Current, Capacity, Energy, Count, Mass, Any };

struct UnitEntry {
  std::string_view text;  // normalised
  double scale;           // to SI
};

constexpr std::array kVoltageUnits = {UnitEntry{"v", 1.0}, UnitEntry{"volt", 1.0},
                                      UnitEntry{"volts", 1.0}, UnitEntry{"mv", 1e-3},
                                      UnitEntry{"uv", 1e-6}};
constexpr std::array kCurrentUnits = {UnitEntry{"a", 1.0},    UnitEntry{"amp", 1.0},
                                      UnitEntry{"amps", 1.0}, UnitEntry{"ma", 1e-3},
                                      UnitEntry{"mamps", 1e-3}, UnitEntry{"ua", 1e-6},
                                      UnitEntry{"na", 1e-9},  UnitEntry{"pa", 1e-12}};
constexpr std::array kCapacityUnits = {
    UnitEntry{"ah", 3600.0},  UnitEntry{"a.h", 3600.0}, UnitEntry{"ahr", 3600.0},
    UnitEntry{"amp-hr", 3600.0}, UnitEntry{"amphr", 3600.0}, UnitEntry{"mah", 3.6},
    UnitEntry{"ma.h", 3.6},   UnitEntry{"mahr", 3.6},   UnitEntry{"mamp-hr", 3.6},
    UnitEntry{"uah", 3.6e-3}, UnitEntry{"ua.h", 3.6e-3}, UnitEntry{"c", 1.0},
    UnitEntry{"as", 1.0},     UnitEntry{"a.s", 1.0},    UnitEntry{"mc", 1e-3},
    UnitEntry{"mas", 1e-3},   UnitEntry{"ma.s", 1e-3},  UnitEntry{"uc", 1e-6}};
constexpr std::array kEnergyUnits = {
    UnitEntry{"wh", 3600.0}, UnitEntry{"w.h", 3600.0}, UnitEntry{"whr", 3600.0},
    UnitEntry{"watt-hr", 3600.0}, UnitEntry{"mwh", 3.6}, UnitEntry{"mw.h", 3.6},
    UnitEntry{"mwatt-hr", 3.6}, UnitEntry{"kwh", 3.6e6}, UnitEntry{"kw.h", 3.6e6},
    UnitEntry{"j", 1.0},     UnitEntry{"w.s", 1.0},    UnitEntry{"ws", 1.0},
    UnitEntry{"kj", 1e3}};
// Time units as ns per unit (exact integers).
constexpr std::array kTimeUnits = {
    UnitEntry{"s", 1e9},       UnitEntry{"sec", 1e9},      UnitEntry{"secs", 1e9},
    UnitEntry{"second", 1e9},  UnitEntry{"seconds", 1e9},  UnitEntry{"ms", 1e6},
    UnitEntry{"us", 1e3},      UnitEntry{"ns", 1.0},       UnitEntry{"min", 6e10},
    UnitEntry{"mins", 6e10},   UnitEntry{"minute", 6e10},  UnitEntry{"minutes", 6e10},
    UnitEntry{"h", 3.6e12},    UnitEntry{"hr", 3.6e12},    UnitEntry{"hrs", 3.6e12},
    UnitEntry{"hour", 3.6e12}, UnitEntry{"hours", 3.6e12}, UnitEntry{"d", 8.64e13},
    UnitEntry{"day", 8.64e13}, UnitEntry{"days", 8.64e13}};
constexpr std::array kCountUnits = {UnitEntry{"", 1.0},  UnitEntry{"n", 1.0},
                                    UnitEntry{"#", 1.0}, UnitEntry{"no", 1.0},
                                    UnitEntry{"-", 1.0}, UnitEntry{"index", 1.0}};
constexpr std::array kMassUnits = {UnitEntry{"", 1.0},  UnitEntry{"amu", 1.0},
                                   UnitEntry{"u", 1.0}, UnitEntry{"da", 1.0},
                                   UnitEntry{"m/z", 1.0}, UnitEntry{"mz", 1.0}};

template <size_t N>
const UnitEntry* find_unit(const std::array<UnitEntry, N>& table, std::string_view norm) {
  for (const UnitEntry& e : table)
    if (e.text == norm) return &e;
  return nullptr;
}

const UnitEntry* find_in_family(Family f, std::string_view norm) {
  switch (f) {
    case Family::Time: return find_unit(kTimeUnits, norm);
    case Family::Voltage: return find_unit(kVoltageUnits, norm);
    case Family::Current: return find_unit(kCurrentUnits, norm);
    case Family::Capacity: return find_unit(kCapacityUnits, norm);
    case Family::Energy: return find_unit(kEnergyUnits, norm);
    case Family::Count: return find_unit(kCountUnits, norm);
    case Family::Mass: return find_unit(kMassUnits, norm);
    case Family::Any: return nullptr;
  }
  return nullptr;
}

bool is_any_unit(std::string_view raw) {
  const std::string n = norm_unit(raw);
  if (n.empty()) return false;
  for (Family f : {Family::Time, Family::Voltage, Family::Current, Family::Capacity, Family::Energy})
    if (find_in_family(f, n)) return true;
  return n == "%" || n == "ohm" || n == "ohms" || n == "w" || n == "mw" || n == "f" ||
         n == "uf" || n == "g" || n == "c/s" || n == "mbar" || n == "pa";
}

Family family_of(Role r) {
  switch (r) {
    case Role::Time:
    case Role::DateTime:
    case Role::TimeNs:
    case Role::ScanStart:
    case Role::ScanEnd: return Family::Time;
    case Role::Voltage: return Family::Voltage;
    case Role::Current:
    case Role::IonCurrent: return Family::Current;
    case Role::Capacity:
    case Role::ChargeCapacity:
    case Role::DischargeCapacity:
    case Role::Dq: return Family::Capacity;
    case Role::Energy:
    case Role::ChargeEnergy:
    case Role::DischargeEnergy: return Family::Energy;
    case Role::Step:
    case Role::Cycle:
    case Role::ScanNumber: return Family::Count;
    case Role::Mass: return Family::Mass;
    case Role::State:
    case Role::Label:
    case Role::None: return Family::Any;
  }
  return Family::Any;
}

std::string_view default_unit(Family f) {
  switch (f) {
    case Family::Time: return "s";
    case Family::Voltage: return "V";
    case Family::Current: return "A";
    case Family::Capacity: return "Ah";
    case Family::Energy: return "Wh";
    default: return "";
  }
}

std::string_view si_unit_of(Family f) {
  switch (f) {
    case Family::Time: return "s";
    case Family::Voltage: return "V";
    case Family::Current: return "A";
    case Family::Capacity: return "C";
    case Family::Energy: return "J";
    default: return "";
  }
}

std::string_view expected_units(Family f) {
  switch (f) {
    case Family::Time: return "s, min or h";
    case Family::Voltage: return "V or mV";
    case Family::Current: return "A, mA, uA, nA or pA";
    case Family::Capacity: return "Ah, mAh (mA.h, Amp-hr) or C";
    case Family::Energy: return "Wh, mWh (W.h) or J";
    case Family::Count: return "no unit";
    case Family::Mass: return "amu or m/z";
    case Family::Any: return "any";
  }
  return "";
}

// Which kinds of import a rule applies to.
enum KindMask : unsigned { kCycler = 1, kMs = 2, kStrain = 4, kTimed = kCycler | kMs };

struct NameRule {
  std::string_view key;
  Role role;
  int priority;
  unsigned kinds;
  std::string_view implied_unit = {};  // unit carried by the name itself ("Amps", "Amp-hr")
  bool needs_unit = false;             // only with a stated unit ("Test (Sec)")
};

constexpr std::array kRules = {
    // time
    NameRule{"testtime", Role::Time, 0, kTimed},
    NameRule{"test", Role::Time, 0, kTimed, {}, true},
    NameRule{"totaltime", Role::Time, 0, kTimed},
    NameRule{"time", Role::Time, 1, kTimed},
    NameRule{"elapsedtime", Role::Time, 1, kTimed},
    NameRule{"relativetime", Role::Time, 1, kTimed},
    NameRule{"timeelapsed", Role::Time, 1, kTimed},
    NameRule{"runtime", Role::Time, 2, kTimed},
    NameRule{"t", Role::Time, 2, kTimed},
    // absolute date-time
    NameRule{"datetime", Role::DateTime, 0, kTimed},
    NameRule{"dptime", Role::DateTime, 0, kTimed},
    NameRule{"dpttime", Role::DateTime, 0, kTimed},
    NameRule{"timestamp", Role::DateTime, 0, kTimed},
    NameRule{"timeutc", Role::DateTime, 0, kTimed},
    NameRule{"absolutetime", Role::DateTime, 0, kTimed},
    NameRule{"realtime", Role::DateTime, 1, kTimed},
    NameRule{"systemtime", Role::DateTime, 1, kTimed},
    NameRule{"localtime", Role::DateTime, 1, kTimed},
    NameRule{"clocktime", Role::DateTime, 1, kTimed},
    NameRule{"utc", Role::DateTime, 1, kTimed},
    NameRule{"date", Role::DateTime, 2, kTimed},
    // voltage
    NameRule{"ewe", Role::Voltage, 0, kCycler},
    NameRule{"voltage", Role::Voltage, 0, kCycler},
    NameRule{"cellvoltage", Role::Voltage, 0, kCycler},
    NameRule{"volts", Role::Voltage, 0, kCycler, "V"},
    NameRule{"mvolts", Role::Voltage, 0, kCycler, "mV"},
    NameRule{"ecell", Role::Voltage, 1, kCycler},
    NameRule{"vcell", Role::Voltage, 1, kCycler},
    NameRule{"potential", Role::Voltage, 1, kCycler},
    NameRule{"e", Role::Voltage, 3, kCycler},
    NameRule{"v", Role::Voltage, 3, kCycler},
    NameRule{"u", Role::Voltage, 3, kCycler},
    // current
    NameRule{"i", Role::Current, 0, kCycler},
    NameRule{"current", Role::Current, 0, kCycler},
    NameRule{"amps", Role::Current, 0, kCycler, "A"},
    NameRule{"amp", Role::Current, 0, kCycler, "A"},
    NameRule{"mamps", Role::Current, 0, kCycler, "mA"},
    NameRule{"icell", Role::Current, 1, kCycler},
    NameRule{"curr", Role::Current, 1, kCycler},
    // capacity
    NameRule{"qqo", Role::Capacity, 0, kCycler},
    NameRule{"capacity", Role::Capacity, 1, kCycler},
    NameRule{"cap", Role::Capacity, 1, kCycler},
    NameRule{"amphr", Role::Capacity, 1, kCycler, "Ah"},
    NameRule{"mamphr", Role::Capacity, 1, kCycler, "mAh"},
    NameRule{"qcharge/discharge", Role::Capacity, 2, kCycler},
    NameRule{"q", Role::Capacity, 3, kCycler},
    NameRule{"chargecapacity", Role::ChargeCapacity, 0, kCycler},
    NameRule{"qcharge", Role::ChargeCapacity, 0, kCycler},
    NameRule{"chargecap", Role::ChargeCapacity, 1, kCycler},
    NameRule{"chgcap", Role::ChargeCapacity, 1, kCycler},
    NameRule{"dischargecapacity", Role::DischargeCapacity, 0, kCycler},
    NameRule{"qdischarge", Role::DischargeCapacity, 0, kCycler},
    NameRule{"dischargecap", Role::DischargeCapacity, 1, kCycler},
    NameRule{"dischgcap", Role::DischargeCapacity, 1, kCycler},
    NameRule{"dchgcap", Role::DischargeCapacity, 1, kCycler},
    // energy
    NameRule{"energy", Role::Energy, 0, kCycler},
    NameRule{"ener", Role::Energy, 0, kCycler},
    NameRule{"watthr", Role::Energy, 1, kCycler, "Wh"},
    NameRule{"mwatthr", Role::Energy, 1, kCycler, "mWh"},
    NameRule{"chargeenergy", Role::ChargeEnergy, 0, kCycler},
    NameRule{"energycharge", Role::ChargeEnergy, 0, kCycler},
    NameRule{"dischargeenergy", Role::DischargeEnergy, 0, kCycler},
    NameRule{"energydischarge", Role::DischargeEnergy, 0, kCycler},
    // step, cycle, state
    NameRule{"step", Role::Step, 0, kCycler},
    NameRule{"stepindex", Role::Step, 0, kCycler},
    NameRule{"stepnumber", Role::Step, 0, kCycler},
    NameRule{"stepno", Role::Step, 0, kCycler},
    NameRule{"step#", Role::Step, 0, kCycler},
    NameRule{"ns", Role::Step, 1, kCycler},
    NameRule{"cycleindex", Role::Cycle, 0, kCycler},
    NameRule{"cyc#", Role::Cycle, 0, kCycler},
    NameRule{"cyclenumber", Role::Cycle, 0, kCycler},
    NameRule{"cycleno", Role::Cycle, 0, kCycler},
    NameRule{"cycle#", Role::Cycle, 0, kCycler},
    NameRule{"cyclec", Role::Cycle, 0, kCycler},
    NameRule{"cycle", Role::Cycle, 1, kCycler},
    NameRule{"state", Role::State, 0, kCycler},
    NameRule{"md", Role::State, 0, kCycler},
    NameRule{"dq", Role::Dq, 0, kCycler},
    // mass spectrometry, long format
    NameRule{"mass", Role::Mass, 0, kMs},
    NameRule{"m/z", Role::Mass, 0, kMs},
    NameRule{"mz", Role::Mass, 0, kMs},
    NameRule{"amu", Role::Mass, 0, kMs},
    NameRule{"ioncurrent", Role::IonCurrent, 0, kMs},
    NameRule{"current", Role::IonCurrent, 1, kMs},
    NameRule{"intensity", Role::IonCurrent, 1, kMs},
    NameRule{"signal", Role::IonCurrent, 2, kMs},
    // strain scans
    NameRule{"scan", Role::ScanNumber, 0, kStrain},
    NameRule{"scannumber", Role::ScanNumber, 0, kStrain},
    NameRule{"scan#", Role::ScanNumber, 0, kStrain},
    NameRule{"scanno", Role::ScanNumber, 0, kStrain},
    NameRule{"scanindex", Role::ScanNumber, 0, kStrain},
    NameRule{"start", Role::ScanStart, 0, kStrain},
    NameRule{"starttime", Role::ScanStart, 0, kStrain},
    NameRule{"scanstart", Role::ScanStart, 0, kStrain},
    NameRule{"tstart", Role::ScanStart, 0, kStrain},
    NameRule{"end", Role::ScanEnd, 0, kStrain},
    NameRule{"endtime", Role::ScanEnd, 0, kStrain},
    NameRule{"stop", Role::ScanEnd, 0, kStrain},
    NameRule{"stoptime", Role::ScanEnd, 0, kStrain},
    NameRule{"scanend", Role::ScanEnd, 0, kStrain},
    NameRule{"tend", Role::ScanEnd, 0, kStrain},
    NameRule{"label", Role::Label, 0, kStrain},
    NameRule{"name", Role::Label, 1, kStrain},
};

unsigned kind_bit(Kind k) {
  switch (k) {
    case Kind::Cycler: return kCycler;
    case Kind::Ms: return kMs;
    case Kind::Strain: return kStrain;
  }
  return kCycler;
}

constexpr std::array kRoleNames = {
    std::pair{Role::Time, std::string_view("time")},
    std::pair{Role::DateTime, std::string_view("datetime")},
    std::pair{Role::TimeNs, std::string_view("t_ns")},
    std::pair{Role::Voltage, std::string_view("voltage")},
    std::pair{Role::Current, std::string_view("current")},
    std::pair{Role::Capacity, std::string_view("capacity")},
    std::pair{Role::ChargeCapacity, std::string_view("charge_capacity")},
    std::pair{Role::DischargeCapacity, std::string_view("discharge_capacity")},
    std::pair{Role::Energy, std::string_view("energy")},
    std::pair{Role::ChargeEnergy, std::string_view("charge_energy")},
    std::pair{Role::DischargeEnergy, std::string_view("discharge_energy")},
    std::pair{Role::Step, std::string_view("step")},
    std::pair{Role::Cycle, std::string_view("cycle")},
    std::pair{Role::State, std::string_view("state")},
    std::pair{Role::Dq, std::string_view("dq")},
    std::pair{Role::Mass, std::string_view("mass")},
    std::pair{Role::IonCurrent, std::string_view("ion_current")},
    std::pair{Role::ScanNumber, std::string_view("scan")},
    std::pair{Role::ScanStart, std::string_view("start")},
    std::pair{Role::ScanEnd, std::string_view("end")},
    std::pair{Role::Label, std::string_view("label")},
};

std::string role_list() {
  std::string s;
  for (const auto& [role, name] : kRoleNames) {
    if (!s.empty()) s += ", ";
    s += name;
  }
  return s;
}

}  // namespace

std::string_view role_name(Role role) {
  for (const auto& [r, name] : kRoleNames)
    if (r == role) return name;
  return "none";
}

std::optional<Role> role_from_name(std::string_view name) {
  for (const auto& [r, n] : kRoleNames)
    if (iequals(n, name)) return r;
  if (iequals(name, "scan_number")) return Role::ScanNumber;
  if (iequals(name, "mz") || iequals(name, "m/z")) return Role::Mass;
  return std::nullopt;
}

HeaderParts split_header(std::string_view header) {
  std::string_view h = trim_spaces(header);
  HeaderParts out;
  // "Name (unit)" / "Name [unit]"
  if (!h.empty() && (h.back() == ')' || h.back() == ']')) {
    const char open = h.back() == ')' ? '(' : '[';
    const size_t p = h.rfind(open);
    if (p != std::string_view::npos && p > 0) {
      const std::string_view name = trim_spaces(h.substr(0, p));
      if (!name.empty()) {
        out.name = std::string(name);
        out.unit = std::string(trim_spaces(h.substr(p + 1, h.size() - p - 2)));
        return out;
      }
    }
  }
  // "name/unit" (EC-Lab): the first '/' whose remainder is a unit, else the last '/'.
  if (const size_t last = h.rfind('/'); last != std::string_view::npos && last > 0 && last + 1 < h.size()) {
    for (size_t p = h.find('/'); p != std::string_view::npos; p = h.find('/', p + 1)) {
      if (p > 0 && is_any_unit(h.substr(p + 1))) {
        out.name = std::string(trim_spaces(h.substr(0, p)));
        out.unit = std::string(trim_spaces(h.substr(p + 1)));
        return out;
      }
    }
    out.name = std::string(trim_spaces(h.substr(0, last)));
    out.unit = std::string(trim_spaces(h.substr(last + 1)));
    return out;
  }
  // "name_unit" (voltage_v, current_a, ion_current_m32_a) when the suffix is a unit.
  if (const size_t us = h.rfind('_'); us != std::string_view::npos && us > 0 && us + 1 < h.size()) {
    if (is_any_unit(h.substr(us + 1))) {
      out.name = std::string(h.substr(0, us));
      out.unit = std::string(h.substr(us + 1));
      return out;
    }
  }
  out.name = std::string(h);
  return out;
}

std::string name_key(std::string_view name) {
  std::string k;
  k.reserve(name.size());
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-' || c == '.' || c == '<' || c == '>' || c == '(' ||
        c == ')' || c == '\t' || c == '"')
      continue;
    k += lower(c);
  }
  return k;
}

HeaderInfo unit_for_role(Role role, std::string_view unit) {
  HeaderInfo info;
  info.role = role;
  const Family f = family_of(role);
  info.si_unit = std::string(si_unit_of(f));
  const std::string n = norm_unit(unit);
  if (n.empty()) {
    info.unit = std::string(default_unit(f));
    info.unit_stated = false;
    if (f == Family::Capacity) info.scale = 3600.0;
    if (f == Family::Energy) info.scale = 3600.0;
    return info;
  }
  info.unit = std::string(trim_spaces(unit));
  info.unit_stated = true;
  if (f == Family::Any) return info;
  const UnitEntry* e = find_in_family(f, n);
  if (!e && role == Role::DateTime) {
    // "Date Time (local)", "DateTime (UTC)": the cells say what they are; not a scale.
    info.unit_stated = false;
    return info;
  }
  if (!e) {
    info.unit_known = false;
    return info;
  }
  if (f == Family::Time) {
    info.time_ns_per_unit = static_cast<long double>(e->scale);
    info.scale = e->scale / 1e9;
  } else {
    info.scale = e->scale;
  }
  return info;
}

HeaderInfo classify_header(std::string_view header, Kind kind) {
  const std::string_view h = trim_spaces(header);
  if (h.empty()) return {};
  const std::string whole = name_key(h);
  const unsigned bit = kind_bit(kind);
  // Names that the splitting below would take apart.
  if (iequals(h, "t_ns") && (bit & kTimed)) return unit_for_role(Role::TimeNs, "ns");
  if ((whole == "m/z" || whole == "m/zamu") && kind == Kind::Ms) return unit_for_role(Role::Mass, "");

  const HeaderParts parts = split_header(h);
  const std::string key = name_key(parts.name);
  for (const NameRule& rule : kRules) {
    if (rule.key != key || !(rule.kinds & bit)) continue;
    if (rule.needs_unit && parts.unit.empty()) continue;
    HeaderInfo info = unit_for_role(rule.role, parts.unit.empty() ? rule.implied_unit : parts.unit);
    if (!rule.implied_unit.empty() && parts.unit.empty()) info.unit_stated = true;
    info.priority = rule.priority;
    // "Step (Sec)", "Cycle (h)": a time, not a counter; "Ns" etc. with odd units: not ours.
    if (family_of(rule.role) == Family::Count && !info.unit_known) return {};
    return info;
  }
  return {};
}

const MappedColumn* ColumnMap::get(Role role) const {
  for (const MappedColumn& c : columns)
    if (c.info.role == role) return &c;
  return nullptr;
}

bool ColumnMap::is_disabled(Role role) const {
  return std::find(disabled.begin(), disabled.end(), role) != disabled.end();
}

std::string list_headers(const std::vector<std::string>& headers, size_t max) {
  std::string s;
  size_t n = 0, total = 0;
  for (const std::string& h : headers) {
    if (trim_spaces(h).empty()) continue;
    ++total;
    if (n >= max) continue;
    if (!s.empty()) s += ", ";
    s += fmt::format("'{}'", h);
    ++n;
  }
  if (total > n) s += fmt::format(", ... ({} more)", total - n);
  return s;
}

ColumnMap map_columns(const std::vector<std::string>& headers, Kind kind,
                      const std::vector<std::pair<std::string, std::string>>& overrides,
                      const std::string& file, size_t header_line) {
  ColumnMap m;
  std::vector<bool> taken(headers.size(), false);
  std::vector<Role> overridden;
  for (const auto& [role_text, header_text] : overrides) {
    const auto role = role_from_name(trim_spaces(role_text));
    if (!role) {
      throw ImportError(file, header_line, "",
                        fmt::format("unknown role '{}' in --columns {}={}; roles are: {}", role_text,
                                    role_text, header_text, role_list()));
    }
    const std::string_view wanted = trim_spaces(header_text);
    overridden.push_back(*role);
    if (wanted.empty() || iequals(wanted, "none")) {
      m.disabled.push_back(*role);
      continue;
    }
    size_t idx = headers.size();
    for (size_t i = 0; i < headers.size() && idx == headers.size(); ++i)
      if (trim_spaces(headers[i]) == wanted) idx = i;
    for (size_t i = 0; i < headers.size() && idx == headers.size(); ++i)
      if (iequals(trim_spaces(headers[i]), wanted)) idx = i;
    if (idx == headers.size()) {
      throw ImportError(file, header_line, std::string(wanted),
                        fmt::format("--columns {}={} names a column that is not in the file; its "
                                    "columns are: {}",
                                    role_text, header_text, list_headers(headers)));
    }
    HeaderInfo info = classify_header(headers[idx], kind);
    if (info.role != *role) info = unit_for_role(*role, split_header(headers[idx]).unit);
    info.role = *role;
    if (!info.unit_known) {
      throw ImportError(file, header_line, headers[idx],
                        fmt::format("unknown unit '{}' for {}; expected {}", info.unit,
                                    role_name(*role), expected_units(family_of(*role))));
    }
    m.columns.push_back(MappedColumn{idx, headers[idx], info, true});
    taken[idx] = true;
  }

  std::map<Role, std::vector<std::pair<size_t, HeaderInfo>>> candidates;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (taken[i] || trim_spaces(headers[i]).empty()) continue;
    HeaderInfo info = classify_header(headers[i], kind);
    if (info.role == Role::None) continue;
    if (std::find(overridden.begin(), overridden.end(), info.role) != overridden.end()) continue;
    candidates[info.role].emplace_back(i, std::move(info));
  }
  for (auto& [role, list] : candidates) {
    const std::pair<size_t, HeaderInfo>* best = nullptr;
    for (const auto& c : list) {
      if (!c.second.unit_known) continue;
      if (!best || c.second.priority < best->second.priority) best = &c;
    }
    if (!best) {
      const auto& [idx, info] = list.front();
      throw ImportError(
          file, header_line, headers[idx],
          fmt::format("unknown unit '{}' in header '{}' (read as {}); expected {}. Fix the header, "
                      "or map another column with --columns {}=HEADER ({}=none to skip it)",
                      info.unit, headers[idx], role_name(role), expected_units(family_of(role)),
                      role_name(role), role_name(role)));
    }
    m.columns.push_back(MappedColumn{best->first, headers[best->first], best->second, false});
    taken[best->first] = true;
  }
  std::sort(m.columns.begin(), m.columns.end(),
            [](const MappedColumn& a, const MappedColumn& b) { return a.index < b.index; });
  for (size_t i = 0; i < headers.size(); ++i)
    if (!taken[i] && !trim_spaces(headers[i]).empty()) m.unused.push_back(i);
  return m;
}

void describe_columns(const ColumnMap& map, const std::vector<std::string>& headers,
                      std::vector<std::string>& assumptions) {
  for (const MappedColumn& c : map.columns) {
    const HeaderInfo& i = c.info;
    std::string unit;
    if (c.info.role == Role::State || c.info.role == Role::Label) {
      unit = "";
    } else if (c.info.role == Role::TimeNs) {
      unit = " (integer ns since 1970-01-01 UTC)";
    } else if (c.info.role == Role::DateTime) {
      unit = " (absolute date-time)";
    } else if (!i.unit_stated && !i.unit.empty()) {
      unit = fmt::format(" (no unit in header; assumed {})", i.unit);
    } else if (!i.unit.empty()) {
      if (i.si_unit.empty() || i.unit == i.si_unit || i.scale == 1.0) {
        unit = fmt::format(" ({})", i.unit);
      } else {
        unit = fmt::format(" ({}, x{:g} -> {})", i.unit, i.scale, i.si_unit);
      }
    }
    assumptions.push_back(fmt::format("column '{}' -> {}{}{}", c.header, role_name(i.role), unit,
                                      c.from_option ? " [--columns]" : ""));
  }
  for (Role r : map.disabled)
    assumptions.push_back(fmt::format("{}: none (--columns {}=none)", role_name(r), role_name(r)));
  if (!map.unused.empty()) {
    std::vector<std::string> names;
    for (size_t i : map.unused) names.push_back(headers[i]);
    assumptions.push_back(fmt::format("skipped {} column(s) not used: {}", names.size(),
                                      list_headers(names, 20)));
  }
}

}  // namespace opsync::import
