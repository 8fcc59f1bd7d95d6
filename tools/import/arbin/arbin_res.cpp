// Reads an Arbin .res file with mdbtools' libmdb. libmdb returns whatever it could read from a
// truncated or damaged database (a table just ends early, with a warning on stderr), so the
// file is checked first: Jet signature, whole pages, every page that the catalog and the two
// Arbin tables use lies inside the file, and afterwards the row count each table declares.
#include "import/arbin/arbin_res.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <mdbtools.h>

#include "import/common/delimited.h"

namespace opsync::import {
namespace {

constexpr std::string_view kJetSignature{"\x00\x01\x00\x00Standard Jet DB", 19};
constexpr size_t kJetVersionOffset = 0x14;  // 0 = Jet 3 (2 KiB pages), 1 = Jet 4 (4 KiB pages)
constexpr unsigned long kCatalogPage = 2;   // MSysObjects' table definition
constexpr unsigned char kTableDefinitionPage = 0x02;
constexpr unsigned char kDataPage = 0x01;  // data pages start 01 01, then free space, then the owner
// Text cell buffer: Arbin text columns are Text(250), at most 750 bytes as UTF-8.
constexpr size_t kBindSize = 4096;

struct MdbClose {
  void operator()(MdbHandle* h) const noexcept { mdb_close(h); }
};
using MdbPtr = std::unique_ptr<MdbHandle, MdbClose>;

struct TableFree {
  void operator()(MdbTableDef* t) const noexcept { mdb_free_tabledef(t); }
};
using TablePtr = std::unique_ptr<MdbTableDef, TableFree>;

ImportError damaged(const std::string& path, const std::string& what) {
  return ImportError(path, 0, "", what + "; the file is damaged or truncated, nothing imported");
}

struct FileShape {
  size_t page_size = 0;
  uint64_t page_count = 0;
  uint64_t size = 0;
};

// Signature and size, before libmdb opens the file.
FileShape check_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImportError(path, 0, "", "cannot open the file for reading");
  std::string head(kJetVersionOffset + 1, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (!looks_like_arbin_res(head)) {
    throw ImportError(path, 0, "",
                      "not an Arbin .res file: it does not start with the Microsoft Access (Jet 3/4) "
                      "signature 'Standard Jet DB'");
  }
  FileShape shape;
  shape.page_size = head[kJetVersionOffset] == 0 ? 2048 : 4096;
  std::error_code ec;
  shape.size = std::filesystem::file_size(path, ec);
  if (ec) throw ImportError(path, 0, "", "cannot read the file size: " + ec.message());
  shape.page_count = shape.size / shape.page_size;
  if (shape.size % shape.page_size != 0) {
    throw ImportError(path, 0, "",
                      fmt::format("the file is truncated: {} bytes is not a whole number of {}-byte database "
                                  "pages (page {} is cut off after {} bytes); nothing imported",
                                  shape.size, shape.page_size, shape.page_count,
                                  shape.size % shape.page_size));
  }
  if (shape.page_count <= kCatalogPage) {
    throw ImportError(path, 0, "",
                      fmt::format("the file is truncated: {} bytes hold no database catalog (page {}); "
                                  "nothing imported",
                                  shape.size, kCatalogPage));
  }
  return shape;
}

uint32_t le32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// Every page the table's page map names must lie inside the file; libmdb would otherwise stop
// reading the table there without an error. Returns those pages, in order.
std::vector<uint32_t> check_table_pages(MdbHandle* mdb, const MdbTableDef& t, const FileShape& shape,
                                        const std::string& path) {
  const auto beyond = [&](uint64_t page) {
    return ImportError(path, 0, "",
                       fmt::format("the file is truncated: table '{}' uses page {} but the file ends after "
                                   "page {} ({} bytes); nothing imported",
                                   t.name, page, shape.page_count - 1, shape.size));
  };
  if (!t.usage_map || t.map_sz < 1) throw damaged(path, fmt::format("table '{}' has no page map", t.name));
  const unsigned char type = t.usage_map[0];
  if (type == 1) {
    // A map of map pages: each 4-byte entry is the page holding one bitmap.
    for (size_t k = 1; k + 4 <= t.map_sz; k += 4) {
      const uint32_t map_page = le32(t.usage_map + k);
      if (map_page >= shape.page_count) throw beyond(map_page);
    }
  } else if (type != 0) {
    throw damaged(path, fmt::format("table '{}' has a page map of unknown type {}", t.name, type));
  }
  // mdb_map_find_next returns the pages in increasing order, 0 at the end, -1 on error.
  guint32 page = 0;
  std::vector<uint32_t> pages;
  for (uint64_t guard = 0; guard <= shape.page_count; ++guard) {
    const gint32 next = mdb_map_find_next(mdb, t.usage_map, static_cast<unsigned int>(t.map_sz), page);
    if (next == 0) return pages;
    if (next < 0) throw damaged(path, fmt::format("the page map of table '{}' cannot be read", t.name));
    if (static_cast<uint64_t>(next) >= shape.page_count) throw beyond(static_cast<uint64_t>(next));
    if (static_cast<guint32>(next) <= page) break;
    page = static_cast<guint32>(next);
    pages.push_back(page);
  }
  throw damaged(path, fmt::format("the page map of table '{}' is not in page order", t.name));
}

// The table definition page and the pages holding its page maps, checked before libmdb reads
// them (it prints to stderr and gives up on pages beyond the end of the file).
void check_table_definition(MdbHandle* mdb, unsigned long table_pg, const std::string& name, const FileShape& shape,
                            const std::string& path) {
  const auto beyond = [&](uint64_t page, const char* what) {
    return ImportError(path, 0, "",
                       fmt::format("the file is truncated: table '{}' has its {} on page {} but the file ends "
                                   "after page {} ({} bytes); nothing imported",
                                   name, what, page, shape.page_count - 1, shape.size));
  };
  if (table_pg >= shape.page_count) throw beyond(table_pg, "definition");
  if (mdb_read_pg(mdb, table_pg) != static_cast<ssize_t>(shape.page_size) || mdb->pg_buf[0] != kTableDefinitionPage) {
    throw damaged(path, fmt::format("page {} should hold the definition of table '{}' but does not", table_pg, name));
  }
  // Page maps are referenced as (page << 8 | row).
  const uint64_t usage_map_page = static_cast<uint32_t>(mdb_get_int32(mdb->pg_buf, mdb->fmt->tab_usage_map_offset)) >> 8;
  const uint64_t free_map_page = static_cast<uint32_t>(mdb_get_int32(mdb->pg_buf, mdb->fmt->tab_free_map_offset)) >> 8;
  if (usage_map_page >= shape.page_count) throw beyond(usage_map_page, "page map");
  if (free_map_page >= shape.page_count) throw beyond(free_map_page, "free-space map");
}

bool is_number_type(int col_type) {
  return col_type == MDB_BYTE || col_type == MDB_INT || col_type == MDB_LONGINT || col_type == MDB_FLOAT ||
         col_type == MDB_DOUBLE;
}

// One table, its columns bound to text buffers (libmdb formats each cell as text; numbers with
// up to 16 significant digits, as mdb-export prints them).
class BoundTable {
 public:
  BoundTable(MdbHandle* mdb, MdbCatalogEntry* entry, const FileShape& shape, const std::string& path)
      : path_(path), name_(entry->object_name) {
    check_table_definition(mdb, entry->table_pg, name_, shape, path);
    table_.reset(mdb_read_table(entry));
    if (!table_) throw damaged(path, fmt::format("the definition of table '{}' cannot be read", name_));
    pages_ = check_table_pages(mdb, *table_, shape, path);
    table_pg_ = entry->table_pg;
    if (!mdb_read_columns(table_.get()) || table_->num_cols == 0 || table_->columns->len != table_->num_cols) {
      throw damaged(path, fmt::format("the columns of table '{}' cannot be read", name_));
    }
    mdb_rewind_table(table_.get());
  }

  std::vector<std::string> column_names() const {
    std::vector<std::string> names;
    for (guint i = 0; i < table_->columns->len; ++i)
      names.emplace_back(static_cast<const MdbColumn*>(g_ptr_array_index(table_->columns, i))->name);
    return names;
  }

  // Binds column `name` if the table has it; a number column must hold a number type, a text
  // column text. Returns the slot for cell(), or -1 when the column is absent.
  int bind(const std::string& name, bool text) {
    for (guint i = 0; i < table_->columns->len; ++i) {
      const auto* col = static_cast<const MdbColumn*>(g_ptr_array_index(table_->columns, i));
      if (name != col->name) continue;
      if (text ? col->col_type != MDB_TEXT : !is_number_type(col->col_type)) {
        throw ImportError(path_, 0, name,
                          fmt::format("table '{}' stores this column as Access type {} where {} is expected: "
                                      "not an Arbin schema this reader knows, or a damaged file; nothing "
                                      "imported",
                                      name_, col->col_type, text ? "text" : "a number"));
      }
      Slot& slot = slots_.emplace_back();
      slot.text.assign(kBindSize, '\0');
      if (mdb_bind_column(table_.get(), static_cast<int>(i) + 1, slot.text.data(), &slot.len) < 0) {
        throw damaged(path_, fmt::format("column '{}' of table '{}' cannot be bound", name, name_));
      }
      return static_cast<int>(slots_.size()) - 1;
    }
    return -1;
  }

  bool fetch() { return mdb_fetch_row(table_.get()) != 0; }

  // The bound cell of the current row; empty for NULL.
  std::string_view cell(int slot) const {
    const Slot& s = slots_[static_cast<size_t>(slot)];
    const size_t len = s.len > 0 ? std::min(static_cast<size_t>(s.len), kBindSize - 1) : 0;
    return std::string_view(s.text.data(), len);
  }

  unsigned int declared_rows() const { return table_->num_rows; }
  const std::string& name() const { return name_; }
  const std::vector<uint32_t>& pages() const { return pages_; }  // its data pages, as its page map lists them
  unsigned long table_pg() const { return table_pg_; }

 private:
  struct Slot {
    std::vector<char> text;
    int len = 0;
  };
  std::string path_;
  std::string name_;
  TablePtr table_;
  std::vector<uint32_t> pages_;
  unsigned long table_pg_ = 0;
  std::deque<Slot> slots_;  // deque: the addresses handed to libmdb stay put
};

// Data pages that say they belong to the table but that its page map does not list: libmdb
// never reads them, so their rows would be lost without a word. Every page of the file is
// looked at once (one page in memory at a time), skipping the holes of a sparse file.
std::vector<Damage> unreachable_pages(const std::string& path, const BoundTable& t, const FileShape& shape,
                                      int row_count_offset) {
  std::vector<Damage> out;
  const std::vector<uint32_t>& listed = t.pages();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  const auto scan = [&](uint64_t first, uint64_t end, std::vector<unsigned char>& buf) {
    for (uint64_t pg = first; pg < end; ++pg) {
      const ssize_t got = ::pread(fd, buf.data(), shape.page_size, static_cast<off_t>(pg * shape.page_size));
      if (got != static_cast<ssize_t>(shape.page_size)) return;
      const unsigned char* page = buf.data();
      if (pg == 0 || page[0] != kDataPage || page[1] != kDataPage || le32(page + 4) != t.table_pg()) continue;
      if (std::binary_search(listed.begin(), listed.end(), static_cast<uint32_t>(pg))) continue;
      const unsigned rows = unsigned{page[row_count_offset]} | unsigned{page[row_count_offset + 1]} << 8;
      if (rows == 0) continue;  // a page emptied by the writer and dropped from the map
      out.push_back(Damage{fmt::format("page {} (byte {})", pg, pg * shape.page_size),
                           fmt::format("holds {} row slot(s) of table '{}' but the table's page map does not "
                                       "list it (the page map is damaged)",
                                       rows, t.name()),
                           rows, std::nullopt});
    }
  };
  std::vector<unsigned char> buf(shape.page_size);
  // Holes (sparse files) hold only zeros, never a data page: only the stretches with data are read.
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < shape.size) {
    const off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;  // no data after pos (or SEEK_DATA unsupported: handled below)
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = static_cast<off_t>(shape.size);
    const uint64_t first = static_cast<uint64_t>(data) / shape.page_size;
    const uint64_t end = (static_cast<uint64_t>(hole) + shape.page_size - 1) / shape.page_size;
    scan(first, std::min<uint64_t>(end, shape.page_count), buf);
    pos = hole;
  }
  if (pos == 0 && errno == EINVAL) scan(0, shape.page_count, buf);  // a file system without SEEK_DATA
  ::close(fd);
  return out;
}

// Fewer rows than the table definition declares means rows were lost (libmdb skips pages and
// rows it cannot read). More, or a declared 0, happens when the writer did not close the file.
void check_row_count(const BoundTable& t, size_t read, const std::string& path, std::vector<std::string>& notes) {
  const size_t declared = t.declared_rows();
  if (declared != 0 && read < declared) {
    throw damaged(path, fmt::format("table '{}' declares {} rows but only {} can be read", t.name(), declared,
                                    read));
  }
  if (declared != read) {
    notes.push_back(fmt::format("table '{}' declares {} rows and {} were read (the file was probably copied "
                                "while the test was running)",
                                t.name(), declared, read));
  }
}

std::optional<int32_t> cell_int32(std::string_view cell) {
  const auto v = parse_int64(cell);
  if (!v || *v < INT32_MIN || *v > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(*v);
}

// A number cell: NaN for NULL; `bad` counts cells that hold no finite number.
double cell_number(std::string_view cell, size_t& bad) {
  const Number n = parse_number(cell, true);
  if (n.status == NumberStatus::Ok && std::isfinite(n.value)) return n.value;
  if (n.status != NumberStatus::Missing || !cell.empty()) ++bad;
  return ArbinRow::kNone;
}

// A table as the catalog (MSysObjects) lists it.
struct CatalogTable {
  std::string name;
  unsigned long table_pg = 0;
  bool system = false;
};

// What libmdb needs to read a table: a catalog entry without properties.
MdbCatalogEntry catalog_entry(MdbHandle* mdb, const std::string& name, unsigned long table_pg) {
  MdbCatalogEntry e{};
  e.mdb = mdb;
  std::snprintf(e.object_name, sizeof e.object_name, "%s", name.c_str());
  e.object_type = MDB_TABLE;
  e.table_pg = table_pg;
  return e;
}

// The tables of the database. Read here rather than with mdb_read_catalog(), which also reads
// every object's property blob (LvProp) and, when that is damaged, dumps it to stdout.
std::vector<CatalogTable> read_catalog(MdbHandle* mdb, const FileShape& shape, const std::string& path) {
  MdbCatalogEntry msys = catalog_entry(mdb, "MSysObjects", kCatalogPage);
  BoundTable t(mdb, &msys, shape, path);
  const int id = t.bind("Id", false);
  const int name = t.bind("Name", true);
  const int type = t.bind("Type", false);
  const int flags = t.bind("Flags", false);
  if (id < 0 || name < 0 || type < 0 || flags < 0) throw damaged(path, "the database catalog lacks its columns");
  constexpr int64_t kTypeMask = 0x7F;            // object type in the low bits of Type
  constexpr int64_t kPageMask = 0x00FFFFFF;      // definition page in the low bits of Id
  constexpr int64_t kSystemFlags = 0x80000002;   // Flags bits of system tables
  std::vector<CatalogTable> tables;
  size_t rows = 0;
  while (t.fetch()) {
    ++rows;
    const auto id_value = parse_int64(t.cell(id));
    const auto type_value = parse_int64(t.cell(type));
    const auto flags_value = parse_int64(t.cell(flags));
    if (!id_value || !type_value) throw damaged(path, "an entry of the database catalog cannot be read");
    if ((*type_value & kTypeMask) != MDB_TABLE) continue;
    tables.push_back(CatalogTable{std::string(t.cell(name)), static_cast<unsigned long>(*id_value & kPageMask),
                                  flags_value && (*flags_value & kSystemFlags) != 0});
  }
  std::vector<std::string> notes;
  check_row_count(t, rows, path, notes);
  return tables;
}

const CatalogTable* find_table(const std::vector<CatalogTable>& catalog, std::string_view name) {
  for (const CatalogTable& t : catalog)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<ArbinTest> read_global_table(BoundTable& t, const std::string& path, std::vector<std::string>& notes) {
  const int id = t.bind("Test_ID", false);
  if (id < 0) throw ImportError(path, 0, "Test_ID", "Global_Table has no column 'Test_ID': not an Arbin .res file");
  const int name = t.bind("Test_Name", true);
  const int channel = t.bind("Channel_Index", false);
  const int start = t.bind("Start_DateTime", false);
  const int schedule = t.bind("Schedule_File_Name", true);
  std::vector<ArbinTest> tests;
  size_t bad = 0;
  while (t.fetch()) {
    ArbinTest test;
    const auto test_id = cell_int32(t.cell(id));
    if (!test_id) {
      throw damaged(path, fmt::format("Global_Table row {} has Test_ID '{}', not an integer", tests.size() + 1,
                                      t.cell(id)));
    }
    test.test_id = *test_id;
    if (name >= 0) test.name = std::string(t.cell(name));
    if (channel >= 0) test.channel_index = cell_int32(t.cell(channel));
    if (start >= 0) {
      const double days = cell_number(t.cell(start), bad);
      if (!std::isnan(days)) test.start_ole_days = days;
    }
    if (schedule >= 0) test.schedule = std::string(t.cell(schedule));
    tests.push_back(std::move(test));
  }
  check_row_count(t, tests.size(), path, notes);
  return tests;
}

void read_channel_table(MdbHandle* mdb, BoundTable& t, ArbinTables& out, const FileShape& shape,
                        const std::string& path) {
  const auto required = [&](const char* column) {
    const int slot = t.bind(column, false);
    if (slot < 0) {
      std::string have;
      for (const std::string& n : t.column_names()) have += (have.empty() ? "'" : ", '") + n + "'";
      throw ImportError(path, 0, column,
                        fmt::format("Channel_Normal_Table has no column '{}' (it has {}): not an Arbin "
                                    "schema this reader knows",
                                    column, have));
    }
    return slot;
  };
  const int test_id = required("Test_ID");
  const int data_point = required("Data_Point");
  const int test_time = required("Test_Time");
  const int current = required("Current");
  const int voltage = required("Voltage");
  const int date_time = t.bind("DateTime", false);
  const int step = t.bind("Step_Index", false);
  const int cycle = t.bind("Cycle_Index", false);
  const int charge_cap = t.bind("Charge_Capacity", false);
  const int discharge_cap = t.bind("Discharge_Capacity", false);
  const int charge_energy = t.bind("Charge_Energy", false);
  const int discharge_energy = t.bind("Discharge_Energy", false);
  ArbinColumns& c = out.columns;
  c.date_time = date_time >= 0;
  c.step = step >= 0;
  c.cycle = cycle >= 0;
  c.charge_capacity = charge_cap >= 0;
  c.discharge_capacity = discharge_cap >= 0;
  c.charge_energy = charge_energy >= 0;
  c.discharge_energy = discharge_energy >= 0;
  for (const std::string& n : t.column_names()) {
    static const std::string used[] = {"Test_ID",         "Data_Point",         "Test_Time",     "Current",
                                       "Voltage",         "DateTime",           "Step_Index",    "Cycle_Index",
                                       "Charge_Capacity", "Discharge_Capacity", "Charge_Energy", "Discharge_Energy"};
    if (std::find(std::begin(used), std::end(used), n) == std::end(used)) c.skipped.push_back(n);
  }

  // A row takes at least a few dozen bytes, so the file size bounds a sane reservation.
  out.rows.reserve(std::min<size_t>(t.declared_rows(), shape.size / 32));
  size_t bad = 0;
  const auto optional_number = [&](int slot) { return slot >= 0 ? cell_number(t.cell(slot), bad) : ArbinRow::kNone; };
  while (t.fetch()) {
    ArbinRow r;
    const size_t row_no = out.rows.size() + 1;
    const auto where = [&](const char* column, std::string_view cell) {
      const std::string what = cell.empty() ? std::string("no value")
                                            : fmt::format("'{}', not {}", cell,
                                                          column == std::string_view("Test_Time") ? "a time"
                                                                                                  : "an integer");
      return ImportError(path, 0, column,
                         fmt::format("Channel_Normal_Table row {} (storage order) holds {}; the file is damaged, "
                                     "nothing imported",
                                     row_no, what));
    };
    const auto id = cell_int32(t.cell(test_id));
    if (!id) throw where("Test_ID", t.cell(test_id));
    const auto dp = cell_int32(t.cell(data_point));
    if (!dp) throw where("Data_Point", t.cell(data_point));
    const auto tt = parse_seconds_ns(t.cell(test_time), true);
    if (!tt) throw where("Test_Time", t.cell(test_time));
    r.test_id = *id;
    r.data_point = *dp;
    r.test_time_ns = *tt;
    r.date_time_ole = optional_number(date_time);
    r.step = optional_number(step);
    r.cycle = optional_number(cycle);
    r.current_a = optional_number(current);
    r.voltage_v = optional_number(voltage);
    r.charge_capacity_ah = optional_number(charge_cap);
    r.discharge_capacity_ah = optional_number(discharge_cap);
    r.charge_energy_wh = optional_number(charge_energy);
    r.discharge_energy_wh = optional_number(discharge_energy);
    out.rows.push_back(r);
  }
  // Rows the table declares but libmdb did not return are lost: say how many, and find the
  // pages it could not reach.
  const size_t declared = t.declared_rows();
  const bool short_of_rows = declared != 0 && out.rows.size() < declared;
  if (short_of_rows) {
    out.damage.push_back(Damage{"table 'Channel_Normal_Table'",
                                fmt::format("declares {} rows but only {} can be read", declared, out.rows.size()),
                                declared - out.rows.size(), std::nullopt});
  } else if (declared != out.rows.size()) {
    out.notes.push_back(fmt::format("table '{}' declares {} rows and {} were read (the file was probably copied "
                                    "while the test was running)",
                                    t.name(), declared, out.rows.size()));
  }
  for (Damage& d : unreachable_pages(path, t, shape, mdb->fmt->row_count_offset)) {
    if (short_of_rows) d.rows = 0;  // counted in the shortfall already
    out.damage.push_back(std::move(d));
  }
  if (bad > 0) {
    out.notes.push_back(fmt::format("{} cell(s) of Channel_Normal_Table hold no finite number; those samples "
                                    "are left out",
                                    bad));
  }
}

std::string read_schema_version(BoundTable& t) {
  const int slot = t.bind("Version_Schema_Field", true);
  if (slot < 0 || !t.fetch()) return "";
  return std::string(t.cell(slot));
}

}  // namespace

bool looks_like_arbin_res(std::string_view first_bytes) {
  if (first_bytes.size() <= kJetVersionOffset || first_bytes.substr(0, kJetSignature.size()) != kJetSignature)
    return false;
  const auto version = static_cast<unsigned char>(first_bytes[kJetVersionOffset]);
  return version == 0 || version == 1;
}

ImportResult read_arbin_res(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const std::string& path = in.path;
  if (options.kind != Kind::Cycler) {
    throw ImportError(path, 0, "", "this is an Arbin .res file, which holds cycler data; import it as cycler");
  }
  const FileShape shape = check_file(path);
  MdbPtr mdb(mdb_open(path.c_str(), MDB_NOFLAGS));
  if (!mdb) throw damaged(path, "libmdb cannot open the database");
  mdb_set_bind_size(mdb.get(), kBindSize);

  // The catalog (MSysObjects) is itself a table, checked like the others.
  const std::vector<CatalogTable> catalog = read_catalog(mdb.get(), shape, path);
  const CatalogTable* global = find_table(catalog, "Global_Table");
  const CatalogTable* channel = find_table(catalog, "Channel_Normal_Table");
  if (!global || !channel) {
    std::string have;
    for (const CatalogTable& t : catalog)
      if (!t.system) have += (have.empty() ? "'" : ", '") + t.name + "'";
    throw ImportError(path, 0, "",
                      fmt::format("a Microsoft Access database but not an Arbin .res file: it has no table "
                                  "'{}' (its tables: {})",
                                  global ? "Channel_Normal_Table" : "Global_Table", have.empty() ? "none" : have));
  }

  ArbinTables tables;
  std::string version;
  if (const CatalogTable* v = find_table(catalog, "Version_Table")) {
    MdbCatalogEntry entry = catalog_entry(mdb.get(), v->name, v->table_pg);
    BoundTable t(mdb.get(), &entry, shape, path);
    version = read_schema_version(t);
  }
  tables.notes.push_back(fmt::format("Arbin .res file (Microsoft Access Jet {} database{}), read with mdbtools "
                                     "libmdb {}",
                                     shape.page_size == 4096 ? 4 : 3,
                                     version.empty() ? std::string() : fmt::format(", '{}'", version),
                                     mdb_get_version()));
  {
    MdbCatalogEntry entry = catalog_entry(mdb.get(), global->name, global->table_pg);
    BoundTable t(mdb.get(), &entry, shape, path);
    tables.tests = read_global_table(t, path, tables.notes);
  }
  {
    MdbCatalogEntry entry = catalog_entry(mdb.get(), channel->name, channel->table_pg);
    BoundTable t(mdb.get(), &entry, shape, path);
    read_channel_table(mdb.get(), t, tables, shape, path);
  }
  mdb.reset();
  return arbin_tables_to_result(std::move(tables), path, options, times);
}

}  // namespace opsync::import
