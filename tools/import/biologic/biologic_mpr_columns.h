// The column ids of a BioLogic EC-Lab .mpr data module: for each id its .mpt header name and
// its value type, which fixes the record layout. An id not in this table makes the record size
// unknown, so the reader stops there instead of guessing. Source: shared/formats/
// biologic-mpr-mpt.md sections 4 and 5 (reverse-engineered; there is no vendor spec).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace opsync::import::biologic {

enum class ValueType : uint8_t { Flag, U8, U16, U32, F32, F64 };

// How far a column id has been verified, so the importer can say when it relied on hearsay.
enum class Evidence : uint8_t {
  Checked,  // in files with a matching .mpt header and a record size that adds up
  Yadg,     // in yadg's table only; never seen in a checked file
  Galvani,  // in galvani's table only; UNCONFIRMED
};

struct ColumnSpec {
  uint16_t id = 0;
  std::string_view name;  // as in the .mpt header, UTF-8 ("Capacitance charge/µF")
  ValueType type = ValueType::F32;
  uint8_t flag_mask = 0;  // ValueType::Flag: the bits of the shared flags byte
  Evidence evidence = Evidence::Checked;
};

// nullptr for an id not in the table.
const ColumnSpec* find_column_spec(uint16_t id);

// Bytes one value takes in a record. Flags take 0: all flag columns share one byte, which sits
// where the first flag id occurs (see kFlagsByteSize).
size_t value_size(ValueType type);
inline constexpr size_t kFlagsByteSize = 1;

// "f4", "u2", "flag bits 0x03" for messages and assumption lines.
std::string describe_type(const ColumnSpec& spec);

}  // namespace opsync::import::biologic
