// The BioLogic EC-Lab .mpr container, apart from what the importer makes of it: the 52-byte
// magic, the MODULE blocks (old 51-byte and new 59-byte headers), the data module's column table
// and packed little-endian records, and the LOG module's start date. Every read is bounds-checked
// and every inconsistency is an ImportError that names the byte offset; nothing here trusts a
// length field before checking it against the bytes that are really there.
// Format: shared/formats/biologic-mpr-mpt.md sections 1-4 and 8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "import/biologic/biologic_mpr_columns.h"

namespace opsync::import::biologic {

// "BIO-LOGIC MODULAR FILE" + 0x1A, spaces to 48 bytes, then four zero bytes.
inline constexpr size_t kMagicSize = 52;
inline constexpr std::string_view kMagicText = "BIO-LOGIC MODULAR FILE\x1A";

// The identifying text at offset 0 (the rest of the magic is checked when reading).
bool starts_with_magic(std::string_view bytes);

struct Module {
  std::string short_name;   // trailing spaces dropped: "VMP Set", "VMP data", "VMP LOG", ...
  bool new_header = false;  // 59-byte header of EC-Lab >= 11.50 (length field after FF FF FF FF)
  uint32_t version = 0;     // old header: the version; new header: the first version field
  uint32_t version2 = 0;    // new header only: 10 for Set/LOG/loop/ExtDev, 11 for data
  std::string date;         // as written, "mm/dd/yy" (or '-' / '.' separated)
  size_t offset = 0;        // file offset of "MODULE"
  size_t payload_offset = 0;
  size_t length = 0;        // payload bytes
};

// Checks the magic and walks the modules back to back to the end of the file.
std::vector<Module> read_modules(std::string_view bytes, const std::string& path);

// One column of the data module, decoded. Flag columns (mode, ox/red, ...) are split out of the
// shared flags byte into one column each, as the .mpt export does.
struct DataColumn {
  const ColumnSpec* spec = nullptr;
  size_t id_offset = 0;       // file offset of the id in the column table
  size_t byte_in_record = 0;  // where its value (or the flags byte) sits in a record
  std::vector<double> values;  // one per record; integers and flag values exactly
};

struct DataTable {
  std::string layout;            // "v2", "v3" (old header) or "new" (new header)
  size_t n_points = 0;
  size_t record_size = 0;        // bytes
  size_t records_offset = 0;     // file offset of record 0
  std::vector<uint16_t> ids;     // as listed in the file
  std::vector<DataColumn> columns;  // in id order
};

// Reads the column table of `data` and decodes every record. Throws ImportError for an unknown
// column id (naming it and its offset), a repeated id, an impossible column count, or a record
// count that does not fill the module exactly.
DataTable read_data_module(std::string_view bytes, const Module& data, const std::string& path);

// The acquisition start stored in the LOG module: an OLE automation date (days since
// 1899-12-30, naive local time) at payload offset 585; galvani also tries 465, 469 and 473.
struct LogStart {
  double ole_days = 0.0;
  size_t file_offset = 0;
};
// The first candidate offset that holds a plausible date (galvani's window, 40000-50000 days:
// 2009-07-06 to 2036-11-21); nullopt when none does.
std::optional<LogStart> read_log_start(std::string_view bytes, const Module& log);

}  // namespace opsync::import::biologic
