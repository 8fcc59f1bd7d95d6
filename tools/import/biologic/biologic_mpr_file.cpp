// .mpr container parsing: magic, modules, column table, records, LOG start date.
#include "import/biologic/biologic_mpr_file.h"

#include <bit>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "import/import_types.h"

namespace opsync::import::biologic {
namespace {

// Module header fields, relative to the byte after "MODULE" (format doc section 2).
constexpr std::string_view kModuleTag = "MODULE";
constexpr size_t kShortNameSize = 10;
constexpr size_t kLongNameSize = 25;
constexpr size_t kLengthOrMarkerAt = 35;  // old: length; new: FF FF FF FF
constexpr size_t kOldHeaderSize = 51;
constexpr size_t kNewHeaderSize = 59;
constexpr size_t kDateSize = 8;

// Data module layouts (section 3): where the column ids and record 0 start in the payload.
constexpr size_t kOldIdsAt = 5;
constexpr size_t kOldV2RecordsAt = 405;
constexpr size_t kOldV3RecordsAt = 406;
constexpr size_t kNewIdsAt = 6;
constexpr size_t kNewRecordsAt = 1007;

// LOG module start date candidates (section 8): 585 in every LOG checked; the others are
// galvani's fallbacks for files we have not seen.
constexpr size_t kLogDateOffsets[] = {585, 465, 469, 473};
constexpr double kOleMinPlausible = 40000.0;  // 2009-07-06
constexpr double kOleMaxPlausible = 50000.0;  // 2036-11-21

uint64_t load_le(std::string_view bytes, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
  return v;
}

std::string hex(size_t offset) { return fmt::format("{} (0x{:X})", offset, offset); }

// Printable ASCII as is, anything else as \xNN, for names and dates in messages.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out += c;
    } else {
      out += fmt::format("\\x{:02X}", u);
    }
  }
  return out;
}

bool is_text(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) return false;
  }
  return true;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ImportError(path, 0, "", what);
}

// Throws unless `n` bytes from `at` lie inside the file.
void need(std::string_view bytes, size_t at, size_t n, const std::string& path, std::string_view what) {
  if (at <= bytes.size() && n <= bytes.size() - at) return;
  fail(path, fmt::format("the file ends at byte {} inside {} (which needs bytes {} to {}): it is "
                         "truncated",
                         bytes.size(), what, at, at + n - 1));
}

double decode(std::string_view bytes, size_t at, ValueType type) {
  switch (type) {
    case ValueType::U8: return static_cast<double>(load_le(bytes, at, 1));
    case ValueType::U16: return static_cast<double>(load_le(bytes, at, 2));
    case ValueType::U32: return static_cast<double>(load_le(bytes, at, 4));
    case ValueType::F32:
      return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(load_le(bytes, at, 4))));
    case ValueType::F64: return std::bit_cast<double>(load_le(bytes, at, 8));
    case ValueType::Flag: break;  // handled by the caller (shared byte + mask)
  }
  return 0.0;
}

}  // namespace

bool starts_with_magic(std::string_view bytes) { return bytes.substr(0, kMagicText.size()) == kMagicText; }

std::vector<Module> read_modules(std::string_view bytes, const std::string& path) {
  if (bytes.empty()) fail(path, "the file is empty");
  if (bytes.size() < kMagicText.size() && kMagicText.starts_with(bytes)) {
    fail(path, fmt::format("the file ends at byte {} inside the 52-byte BioLogic header: it is "
                           "truncated",
                           bytes.size()));
  }
  if (!starts_with_magic(bytes)) {
    fail(path, "not a BioLogic .mpr file: it does not start with 'BIO-LOGIC MODULAR FILE'");
  }
  need(bytes, 0, kMagicSize, path, "the 52-byte file header");
  // The rest of the magic is fixed padding: a difference means the header was damaged.
  for (size_t i = kMagicText.size(); i < kMagicSize; ++i) {
    const char want = i < 48 ? ' ' : '\0';
    if (bytes[i] != want) {
      fail(path, fmt::format("the 52-byte file header differs from BioLogic's at byte {}: 0x{:02X} "
                             "where 0x{:02X} belongs; the file is corrupt",
                             i, static_cast<uint8_t>(bytes[i]), static_cast<uint8_t>(want)));
    }
  }

  std::vector<Module> modules;
  size_t pos = kMagicSize;
  while (pos < bytes.size()) {
    const size_t number = modules.size() + 1;
    const std::string where = fmt::format("module {} (header at byte {})", number, hex(pos));
    if (bytes.size() - pos < kModuleTag.size()) {
      fail(path, fmt::format("{} stray byte(s) at byte {}, after module {}: too few for another "
                             "module; the file is truncated or a module length is damaged",
                             bytes.size() - pos, hex(pos), number - 1));
    }
    if (bytes.substr(pos, kModuleTag.size()) != kModuleTag) {
      fail(path, fmt::format("expected 'MODULE' at byte {} (start of module {}) but found '{}'; "
                             "the file is corrupt or has bytes after its last module",
                             hex(pos), number, printable(bytes.substr(pos, kModuleTag.size()))));
    }
    const size_t h = pos + kModuleTag.size();
    need(bytes, h, kLengthOrMarkerAt + 4, path, where);
    Module m;
    m.offset = pos;
    m.new_header = load_le(bytes, h + kLengthOrMarkerAt, 4) == 0xFFFFFFFFu;
    const size_t header_size = m.new_header ? kNewHeaderSize : kOldHeaderSize;
    need(bytes, h, header_size, path, where);

    const std::string_view short_name = bytes.substr(h, kShortNameSize);
    const std::string_view long_name = bytes.substr(h + kShortNameSize, kLongNameSize);
    if (!is_text(short_name) || !is_text(long_name)) {
      fail(path, fmt::format("the name of module {} at byte {} is not text ('{}'); the file is "
                             "corrupt",
                             number, hex(h), printable(short_name)));
    }
    m.short_name = std::string(trim_right(short_name));
    size_t date_at = 0;
    if (m.new_header) {
      m.length = load_le(bytes, h + 39, 4);
      m.version = static_cast<uint32_t>(load_le(bytes, h + 43, 4));
      m.version2 = static_cast<uint32_t>(load_le(bytes, h + 47, 4));
      date_at = h + 51;
    } else {
      m.length = load_le(bytes, h + kLengthOrMarkerAt, 4);
      m.version = static_cast<uint32_t>(load_le(bytes, h + 39, 4));
      date_at = h + 43;
    }
    m.date = printable(trim_right(bytes.substr(date_at, kDateSize)));
    m.payload_offset = h + header_size;
    const size_t remaining = bytes.size() - m.payload_offset;
    if (m.length > remaining) {
      fail(path, fmt::format("module {} '{}' (header at byte {}) says its contents are {} bytes, but "
                             "only {} bytes follow: the file is truncated",
                             number, m.short_name, hex(pos), m.length, remaining));
    }
    pos = m.payload_offset + m.length;
    modules.push_back(std::move(m));
  }
  if (modules.empty()) fail(path, "the file ends after its 52-byte header: no modules, it is truncated");
  return modules;
}

DataTable read_data_module(std::string_view bytes, const Module& data, const std::string& path) {
  DataTable t;
  size_t ids_at = 0;
  size_t records_at = 0;
  size_t n_columns = 0;
  const size_t p = data.payload_offset;  // read_modules checked p + length <= size
  const auto too_short = [&](size_t needed) {
    fail(path, fmt::format("the data module (byte {}) holds {} bytes, fewer than the {} its "
                           "{} layout needs before the first record: the file is corrupt",
                           hex(data.offset), data.length, needed, t.layout));
  };
  if (data.new_header) {
    t.layout = "new";
    ids_at = kNewIdsAt;
    records_at = kNewRecordsAt;
    if (data.length < records_at) too_short(records_at);
    n_columns = load_le(bytes, p + 4, 2);
  } else if (data.version == 2 || data.version == 3) {
    t.layout = data.version == 2 ? "v2" : "v3";
    ids_at = kOldIdsAt;
    records_at = data.version == 2 ? kOldV2RecordsAt : kOldV3RecordsAt;
    if (data.length < records_at) too_short(records_at);
    n_columns = load_le(bytes, p + 4, 1);
  } else {
    fail(path, fmt::format("the data module (byte {}) has version {} in an old-style header; only "
                           "versions 2 and 3 (and the new header) have a known layout",
                           hex(data.offset), data.version));
  }
  t.n_points = load_le(bytes, p, 4);
  t.records_offset = p + records_at;
  const size_t max_columns = (records_at - ids_at) / 2;
  if (n_columns == 0 || n_columns > max_columns) {
    fail(path, fmt::format("the data module says it has {} columns (count at byte {}); its column "
                           "table has room for 1 to {}: the file is corrupt",
                           n_columns, hex(p + 4), max_columns));
  }

  // Column table -> record layout. All flag ids share one byte where the first one is listed.
  std::optional<size_t> flags_byte;
  size_t record_size = 0;
  for (size_t k = 0; k < n_columns; ++k) {
    const size_t id_at = p + ids_at + 2 * k;
    const auto id = static_cast<uint16_t>(load_le(bytes, id_at, 2));
    const ColumnSpec* spec = find_column_spec(id);
    if (!spec) {
      fail(path, fmt::format("unknown column id {} at byte {} (entry {} of {} in the data module's "
                             "column table): the size of its values is not known, so the records "
                             "cannot be read. The file may come from a newer EC-Lab or a technique "
                             "not yet supported; export it as .mpt text from EC-Lab and import that",
                             id, hex(id_at), k + 1, n_columns));
    }
    for (uint16_t seen : t.ids) {
      if (seen == id) {
        fail(path, fmt::format("column id {} is listed twice in the data module's column table "
                               "(second time at byte {}): the file is corrupt",
                               id, hex(id_at)));
      }
    }
    t.ids.push_back(id);
    DataColumn c;
    c.spec = spec;
    c.id_offset = id_at;
    if (spec->type == ValueType::Flag) {
      if (!flags_byte) {
        flags_byte = record_size;
        record_size += kFlagsByteSize;
      }
      c.byte_in_record = *flags_byte;
    } else {
      c.byte_in_record = record_size;
      record_size += value_size(spec->type);
    }
    t.columns.push_back(std::move(c));
  }
  t.record_size = record_size;

  // The records must fill the rest of the module exactly (true in every file checked); this is
  // what catches a damaged point count or a column id changed into another known one.
  const uint64_t have = data.length - records_at;
  const uint64_t want = uint64_t{t.n_points} * record_size;
  if (have != want) {
    std::string why;
    if (have % record_size == 0) {
      why = fmt::format("it holds {} records of {} bytes but says it has {} points (count at "
                        "byte {})",
                        have / record_size, record_size, t.n_points, hex(p));
    } else {
      why = fmt::format("its {} bytes of records are not a whole number of {}-byte records "
                        "(columns {})",
                        have, record_size, fmt::join(t.ids, ", "));
    }
    fail(path, fmt::format("the data module (byte {}) does not add up: {}; the file is corrupt",
                           hex(data.offset), why));
  }

  for (DataColumn& c : t.columns) {
    c.values.resize(t.n_points);
    const ValueType type = c.spec->type;
    const uint8_t mask = c.spec->flag_mask;
    const int shift = std::countr_zero(static_cast<unsigned>(mask | 0x100));
    for (size_t r = 0; r < t.n_points; ++r) {
      const size_t at = t.records_offset + r * record_size + c.byte_in_record;
      if (type == ValueType::Flag) {
        const auto byte = static_cast<uint8_t>(bytes[at]);
        c.values[r] = static_cast<double>((byte & mask) >> shift);
      } else {
        c.values[r] = decode(bytes, at, type);
      }
    }
  }
  return t;
}

std::optional<LogStart> read_log_start(std::string_view bytes, const Module& log) {
  for (size_t off : kLogDateOffsets) {
    if (off + 8 > log.length) continue;
    const size_t at = log.payload_offset + off;
    const double days = std::bit_cast<double>(load_le(bytes, at, 8));
    if (std::isfinite(days) && days > kOleMinPlausible && days < kOleMaxPlausible) {
      return LogStart{days, at};
    }
  }
  return std::nullopt;
}

}  // namespace opsync::import::biologic
