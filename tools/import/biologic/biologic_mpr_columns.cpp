// The .mpr column-id table (format doc section 5) and the flags byte (section 4).
#include "import/biologic/biologic_mpr_columns.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace opsync::import::biologic {
namespace {

using enum ValueType;
constexpr Evidence kYadg = Evidence::Yadg;

// µ and ° in UTF-8, spelled out so the table does not depend on the source file's encoding.
#define MICRO "\xC2\xB5"
#define DEGREE "\xC2\xB0"

// Sorted by id (checked by a static_assert below). Flag ids: one shared byte, masks per
// section 4. Ids that appear only in galvani's table (26, 27, 462, 498-505, 509) are left
// out on purpose: their types are not stated, or 498-503 have two conflicting meanings, and
// a wrong size would misread every record after it.
constexpr std::array kColumns = {
    ColumnSpec{1, "mode", Flag, 0x03},
    ColumnSpec{2, "ox/red", Flag, 0x04},
    ColumnSpec{3, "error", Flag, 0x08},
    ColumnSpec{4, "time/s", F64},
    ColumnSpec{5, "control/V/mA", F32},
    ColumnSpec{6, "Ewe/V", F32},  // "Ecell/V" in BCD text exports; same bytes
    ColumnSpec{7, "dq/mA.h", F64},
    ColumnSpec{8, "I/mA", F32},
    ColumnSpec{9, "Ece/V", F32},
    ColumnSpec{11, "<I>/mA", F64},
    ColumnSpec{13, "(Q-Qo)/mA.h", F64},
    ColumnSpec{15, "Phase(Z1)/deg", F32, 0, kYadg},
    ColumnSpec{16, "Analog IN 1/V", F32},
    ColumnSpec{17, "Analog IN 2/V", F32},
    ColumnSpec{19, "control/V", F32},
    ColumnSpec{20, "control/mA", F32},
    ColumnSpec{21, "control changes", Flag, 0x10},
    ColumnSpec{23, "dQ/mA.h", F64},
    ColumnSpec{24, "cycle number", F64},
    ColumnSpec{31, "Ns changes", Flag, 0x20},
    ColumnSpec{32, "freq/Hz", F32},
    ColumnSpec{33, "|Ewe|/V", F32},
    ColumnSpec{34, "|I|/A", F32},
    ColumnSpec{35, "Phase(Z)/deg", F32},
    ColumnSpec{36, "|Z|/Ohm", F32},
    ColumnSpec{37, "Re(Z)/Ohm", F32},
    ColumnSpec{38, "-Im(Z)/Ohm", F32},
    ColumnSpec{39, "I Range", U16},
    ColumnSpec{45, "|Z1|/Ohm", F32, 0, kYadg},
    ColumnSpec{46, "|Z2|/Ohm", F32, 0, kYadg},
    ColumnSpec{65, "counter inc.", Flag, 0x80},
    ColumnSpec{69, "Rwe/Ohm", F32, 0, kYadg},
    ColumnSpec{70, "P/W", F32},  // "Pwe/W" in newer text exports
    ColumnSpec{74, "|Energy|/W.h", F64},
    ColumnSpec{75, "Analog OUT/V", F32, 0, kYadg},
    ColumnSpec{76, "<I>/mA", F32},
    ColumnSpec{77, "<Ewe>/V", F32},
    ColumnSpec{78, "Cs-2/" MICRO "F-2", F32, 0, kYadg},
    ColumnSpec{96, "|Ece|/V", F32},
    ColumnSpec{98, "Phase(Zce)/deg", F32},
    ColumnSpec{99, "|Zce|/Ohm", F32},
    ColumnSpec{100, "Re(Zce)/Ohm", F32},
    ColumnSpec{101, "-Im(Zce)/Ohm", F32},
    ColumnSpec{105, "-Im(Z1)/Ohm", F32, 0, kYadg},
    ColumnSpec{106, "-Im(Z2)/Ohm", F32, 0, kYadg},
    ColumnSpec{110, "Energy ce/W.h", F64, 0, kYadg},
    ColumnSpec{112, "Energy we/W.h", F64, 0, kYadg},
    ColumnSpec{115, "Energy ce charge/W.h", F64, 0, kYadg},
    ColumnSpec{116, "Energy ce discharge/W.h", F64, 0, kYadg},
    ColumnSpec{123, "Energy charge/W.h", F64},  // "Energy we charge/W.h" in newer text
    ColumnSpec{124, "Energy discharge/W.h", F64},
    ColumnSpec{125, "Capacitance charge/" MICRO "F", F64},
    ColumnSpec{126, "Capacitance discharge/" MICRO "F", F64},
    ColumnSpec{131, "Ns", U16},
    ColumnSpec{135, "<E1>/V", F32, 0, kYadg},
    ColumnSpec{136, "<E2>/V", F32, 0, kYadg},
    ColumnSpec{163, "|Estack|/V", F32, 0, kYadg},
    ColumnSpec{166, "Phase(Zstack)/deg", F32, 0, kYadg},
    ColumnSpec{167, "|Zstack|/Ohm", F32, 0, kYadg},
    ColumnSpec{168, "Rcmp/Ohm", F32},
    ColumnSpec{169, "Cs/" MICRO "F", F32},
    ColumnSpec{172, "Cp/" MICRO "F", F32},
    ColumnSpec{173, "Cp-2/" MICRO "F-2", F32, 0, kYadg},
    ColumnSpec{174, "<Ewe>/V", F32},  // text may say "<Ewe/V>"
    ColumnSpec{178, "(Q-Qo)/C", F32, 0, kYadg},
    ColumnSpec{179, "dQ/C", F32, 0, kYadg},
    ColumnSpec{182, "step time/s", F64, 0, kYadg},
    ColumnSpec{185, "<Ece>/V", F32, 0, kYadg},
    ColumnSpec{206, "Temperature/" DEGREE "C", F32, 0, kYadg},
    ColumnSpec{211, "Q charge/discharge/mA.h", F64, 0, kYadg},
    ColumnSpec{212, "half cycle", U32, 0, kYadg},
    ColumnSpec{213, "z cycle", U32, 0, kYadg},
    ColumnSpec{215, "<Ece>/V", F32, 0, kYadg},
    ColumnSpec{430, "Phase(Zwe-ce)/deg", F32},
    ColumnSpec{431, "|Zwe-ce|/Ohm", F32},
    ColumnSpec{432, "Re(Zwe-ce)/Ohm", F32},
    ColumnSpec{433, "-Im(Zwe-ce)/Ohm", F32},
    ColumnSpec{434, "(Q-Qo)/C", F32},
    ColumnSpec{435, "dQ/C", F32},
    ColumnSpec{438, "step time/s", F64},
    ColumnSpec{441, "<Ece>/V", F32},
    ColumnSpec{467, "Q charge/discharge/mA.h", F64},
    ColumnSpec{468, "half cycle", U32},
    ColumnSpec{469, "z cycle", U32},
    ColumnSpec{471, "<Ece>/V", F32},
    ColumnSpec{473, "THD Ewe/%", F32},
    ColumnSpec{474, "THD I/%", F32},
    ColumnSpec{476, "NSD Ewe/%", F32},
    ColumnSpec{477, "NSD I/%", F32},
    ColumnSpec{479, "NSR Ewe/%", F32},
    ColumnSpec{480, "NSR I/%", F32},
    ColumnSpec{486, "|Ewe h2|/V", F32},
    ColumnSpec{487, "|Ewe h3|/V", F32},
    ColumnSpec{488, "|Ewe h4|/V", F32},
    ColumnSpec{489, "|Ewe h5|/V", F32},
    ColumnSpec{490, "|Ewe h6|/V", F32},
    ColumnSpec{491, "|Ewe h7|/V", F32},
    ColumnSpec{492, "|I h2|/A", F32},
    ColumnSpec{493, "|I h3|/A", F32},
    ColumnSpec{494, "|I h4|/A", F32},
    ColumnSpec{495, "|I h5|/A", F32},
    ColumnSpec{496, "|I h6|/A", F32},
    ColumnSpec{497, "|I h7|/A", F32},
    ColumnSpec{880, "Energy we/W.h", F64},
    ColumnSpec{883, "Energy ce charge/W.h", F64},  // size checked; name from yadg
    ColumnSpec{884, "Energy ce discharge/W.h", F64},
};

#undef MICRO
#undef DEGREE

constexpr bool sorted_by_id() {
  for (size_t i = 1; i < kColumns.size(); ++i)
    if (kColumns[i - 1].id >= kColumns[i].id) return false;
  return true;
}
static_assert(sorted_by_id(), "kColumns must be sorted by id for the binary search");

}  // namespace

const ColumnSpec* find_column_spec(uint16_t id) {
  const auto it = std::lower_bound(kColumns.begin(), kColumns.end(), id,
                                   [](const ColumnSpec& c, uint16_t v) { return c.id < v; });
  return it != kColumns.end() && it->id == id ? &*it : nullptr;
}

size_t value_size(ValueType type) {
  switch (type) {
    case Flag: return 0;
    case U8: return 1;
    case U16: return 2;
    case U32: return 4;
    case F32: return 4;
    case F64: return 8;
  }
  return 0;
}

std::string describe_type(const ColumnSpec& spec) {
  switch (spec.type) {
    case Flag: return fmt::format("flag bits 0x{:02X}", spec.flag_mask);
    case U8: return "u1";
    case U16: return "u2";
    case U32: return "u4";
    case F32: return "f4";
    case F64: return "f8";
  }
  return "?";
}

}  // namespace opsync::import::biologic
