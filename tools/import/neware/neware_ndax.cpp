// Neware .ndax reader: opens the zip with libzip (whole-archive consistency check, CRC of every
// member read), reads the few XML attributes it needs with a minimal scanner (the members are
// GB2312, but the attributes used are ASCII), and decodes the .ndc tables: version 5 holds full
// records in data.ndc; versions 14 and 17 hold only (voltage, current) pairs there, with time,
// step and capacities in the sparse data_runInfo.ndc, cycle and state in data_step.ndc and
// thermocouples in data_AUX_*.ndc. Layouts: shared/formats/neware-nda-ndax.md sections 4-7.
#include "import/neware/neware_ndax.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <zip.h>

#include "core/time_format.h"
#include "import/neware/neware_common.h"

namespace opsync::import {
namespace {

using neware::Bytes;
using neware::Decoded;
using neware::Record;

constexpr size_t kPageSize = 4096;                   // .ndc v5+: a 4096-byte file header, then pages
constexpr size_t kMaxMemberBytes = size_t{1} << 30;  // refuse to inflate anything larger

// .ndc file types (byte 0); a page header's u16 at 0 is the file type + 1.
constexpr uint8_t kTypeData = 1;
constexpr uint8_t kTypeAux = 5;
constexpr uint8_t kTypeStep = 7;
constexpr uint8_t kTypeRunInfo = 18;

constexpr std::string_view kKnownMembers[] = {"VersionInfo.xml", "TestInfo.xml", "Step.xml", "EditStep.xml"};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ---- zip ------------------------------------------------------------------------------------

std::string zip_code_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string text = zip_error_strerror(&e);
  zip_error_fini(&e);
  return text;
}

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

class Archive {
 public:
  explicit Archive(const std::string& path) : path_(path) {
    int code = 0;
    zip_.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
    if (!zip_) {
      throw ImportError(path, 0, "",
                        fmt::format("cannot open the .ndax as a zip archive ({}); the file is "
                                    "truncated, corrupt or not a Neware .ndax",
                                    zip_code_text(code)));
    }
    const zip_int64_t count = zip_get_num_entries(zip_.get(), 0);
    for (zip_int64_t i = 0; i < count; ++i) {
      const char* name = zip_get_name(zip_.get(), static_cast<zip_uint64_t>(i), 0);
      names_.push_back(name ? name : "");
    }
  }

  const std::vector<std::string>& names() const { return names_; }

  std::optional<size_t> find(std::string_view name) const {
    for (size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return i;
    return std::nullopt;
  }

  // The whole member, inflated; its CRC is checked by reading to the end.
  std::string read(size_t i) const {
    const std::string& name = names_[i];
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_.get(), i, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
      fail(fmt::format("cannot read the size of member '{}' ({})", name, zip_strerror(zip_.get())));
    }
    if (st.size > kMaxMemberBytes) {
      fail(
          fmt::format("member '{}' says it holds {} bytes, more than a Neware table can (limit {}); "
                      "the archive is corrupt",
                      name, st.size, kMaxMemberBytes));
    }
    std::unique_ptr<zip_file_t, ZipFileClose> f(zip_fopen_index(zip_.get(), i, 0));
    if (!f) fail(fmt::format("cannot open member '{}' ({})", name, zip_strerror(zip_.get())));
    std::string out(st.size, '\0');
    size_t got = 0;
    while (true) {
      char extra = 0;
      const bool past_end = got == out.size();
      const zip_int64_t n =
          past_end ? zip_fread(f.get(), &extra, 1) : zip_fread(f.get(), out.data() + got, out.size() - got);
      if (n < 0) {
        fail(fmt::format("member '{}' cannot be read ({}); the archive is corrupt", name,
                         zip_error_strerror(zip_file_get_error(f.get()))));
      }
      if (n == 0) break;
      if (past_end)
        fail(fmt::format("member '{}' holds more bytes than its size says; the archive is corrupt", name));
      got += static_cast<size_t>(n);
    }
    if (got != out.size()) {
      fail(fmt::format("member '{}' ends after {} of its {} bytes; the archive is corrupt", name, got,
                       out.size()));
    }
    return out;
  }

  [[noreturn]] void fail(const std::string& message) const { throw ImportError(path_, 0, "", message); }

 private:
  std::string path_;
  std::unique_ptr<zip_t, ZipDiscard> zip_;
  std::vector<std::string> names_;
};

// ---- XML: the value of one attribute of the first element with a given name ------------------

std::optional<std::string> xml_attribute(std::string_view xml, std::string_view element,
                                         std::string_view attribute) {
  size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string_view::npos) {
    ++pos;
    if (xml.substr(pos, element.size()) != element) continue;
    const size_t after = pos + element.size();
    if (after >= xml.size()) return std::nullopt;
    const char c = xml[after];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '/' && c != '>') continue;
    const size_t end = xml.find('>', after);
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view tag = xml.substr(after, end - after);
    size_t i = 0;
    while (i < tag.size()) {
      while (i < tag.size() && std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
      const size_t name_start = i;
      while (i < tag.size() && tag[i] != '=' && !std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
      const std::string_view name = tag.substr(name_start, i - name_start);
      while (i < tag.size() && std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
      if (i >= tag.size() || tag[i] != '=') {
        ++i;
        continue;
      }
      ++i;
      while (i < tag.size() && std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
      if (i >= tag.size() || (tag[i] != '"' && tag[i] != '\'')) return std::nullopt;
      const char quote = tag[i++];
      const size_t close = tag.find(quote, i);
      if (close == std::string_view::npos) return std::nullopt;
      if (name == attribute) {
        std::string value(tag.substr(i, close - i));
        // The five predefined entities; the attributes read here are plain ASCII.
        static constexpr std::pair<std::string_view, char> kEntities[] = {
            {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&amp;", '&'}};
        for (const auto& [entity, ch] : kEntities) {
          for (size_t at = value.find(entity); at != std::string::npos; at = value.find(entity, at + 1))
            value.replace(at, entity.size(), 1, ch);
        }
        return value;
      }
      i = close + 1;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= ' ' && c <= '~'; });
}

std::optional<long> parse_long(const std::optional<std::string>& s) {
  if (!s || s->empty() || s->size() > 12) return std::nullopt;
  long v = 0;
  size_t i = 0;
  const bool neg = (*s)[0] == '-';
  if (neg) i = 1;
  if (i == s->size()) return std::nullopt;
  for (; i < s->size(); ++i) {
    if ((*s)[i] < '0' || (*s)[i] > '9') return std::nullopt;
    v = v * 10 + ((*s)[i] - '0');
  }
  return neg ? -v : v;
}

// ---- .ndc tables -----------------------------------------------------------------------------

struct Ndc {
  std::string name;
  std::string bytes;
  uint8_t type = 0;
  uint8_t version = 0;
};

Ndc load_ndc(const Archive& zip, size_t member, uint8_t expected_type) {
  Ndc ndc;
  ndc.name = zip.names()[member];
  ndc.bytes = zip.read(member);
  if (ndc.bytes.size() < 3) {
    zip.fail(fmt::format("'{}' has only {} bytes; it is truncated", ndc.name, ndc.bytes.size()));
  }
  ndc.type = static_cast<uint8_t>(ndc.bytes[0]);
  ndc.version = static_cast<uint8_t>(ndc.bytes[2]);
  if (ndc.type != expected_type) {
    zip.fail(fmt::format("'{}' has file type {} (byte 0), expected {}; the archive is corrupt", ndc.name,
                         ndc.type, expected_type));
  }
  return ndc;
}

// Calls on_page(page, count, page_number) for every 4096-byte page after the file header,
// checking the page's type and that `count` records of `record_size` fit between `first` and
// page end - `tail`.
template <typename Fn>
void for_each_page(const Ndc& ndc, const std::string& file, size_t first, size_t record_size, size_t tail,
                   Fn&& on_page) {
  const Bytes b(ndc.bytes, file);
  if (ndc.bytes.size() % kPageSize != 0 || ndc.bytes.size() < kPageSize) {
    b.fail(fmt::format("'{}' has {} bytes, not a whole number of {}-byte pages; it is truncated", ndc.name,
                       ndc.bytes.size(), kPageSize));
  }
  const size_t capacity = (kPageSize - tail - first) / record_size;
  for (size_t p = kPageSize, number = 1; p < ndc.bytes.size(); p += kPageSize, ++number) {
    const Bytes page = b.slice(p, kPageSize, "a page");
    const uint16_t type = page.u16(0, "page header");
    const uint16_t count = page.u16(2, "page header");
    if (type == 0 && count == 0) continue;  // an unused page
    if (type != ndc.type + 1u) {
      b.fail(fmt::format("page {} of '{}' has type {}, expected {}; the table is corrupt", number, ndc.name,
                         type, ndc.type + 1));
    }
    if (count > capacity) {
      b.fail(
          fmt::format("page {} of '{}' says it holds {} records but has room for {}; the table is "
                      "corrupt",
                      number, ndc.name, count, capacity));
    }
    on_page(page, static_cast<size_t>(count), number);
  }
}

// data.ndc version 5 record fields (format notes section 5): the v29 fields at other offsets,
// Step_Index one byte and itself the step key; a status of 0 is kept (only Index 0 is no row).
constexpr neware::IntegerRecordLayout kV5Layout{.index = 8,
                                                .cycle = 12,
                                                .step_index = 16,
                                                .step_index_bytes = 1,
                                                .status = 17,
                                                .step_key = std::nullopt,
                                                .time_ms = 23,
                                                .voltage = 31,
                                                .current = 35,
                                                .amounts = 43,
                                                .date = 75,
                                                .range = 82,
                                                .status_zero_is_no_row = false};

// data.ndc version 5: full 87-byte records, 45 slots per page from page offset 125.
void read_v5_data(const Ndc& ndc, const std::string& file, Decoded& d) {
  constexpr size_t kFirst = 125, kSize = 87, kTail = kPageSize - 4040;
  size_t skipped = 0;
  for_each_page(ndc, file, kFirst, kSize, kTail, [&](const Bytes& page, size_t count, size_t number) {
    for (size_t k = 0; k < count; ++k) {
      const auto what = [&] { return fmt::format("record {} of page {} of '{}'", k + 1, number, ndc.name); };
      const Bytes r = page.slice(kFirst + k * kSize, kSize, "a record");
      if (r.u8(7, neware::kField) != 0x55) {
        ++skipped;
        continue;
      }
      const neware::IntegerRecord decoded = neware::decode_integer_record(r, kV5Layout, what);
      if (decoded.outcome == neware::IntegerRecordOutcome::NoRow) {
        ++skipped;
        continue;
      }
      if (decoded.outcome == neware::IntegerRecordOutcome::UnknownRange) {
        r.fail(
            fmt::format("{} has current range code {}, which is not in Neware's range table; the "
                        "file is corrupt or from an unknown cycler model",
                        what(), decoded.range));
      }
      d.records.push_back(decoded.record);
    }
  });
  d.wall_naive = true;
  d.wall_what = "the date fields";
  d.notes.push_back(fmt::format(
      "data.ndc version 5: {} record(s) of {} bytes; time in ms, dates to "
      "the second; current and capacity scaled by the record's "
      "current-range code{}",
      d.records.size(), kSize, skipped ? fmt::format(" ({} non-data slot(s) skipped)", skipped) : ""));
}

// Layout of the v14 / v17 tables that differ between the two versions.
struct SplitLayout {
  size_t runinfo_size, runinfo_tail;
  size_t step_size, step_tail;
  bool step_has_index;
};

SplitLayout split_layout(uint8_t version) {
  if (version == 14) return {55, 4, 37, 5, false};
  return {100, 64, 100, 64, true};  // 17
}

struct RunInfo {
  int64_t index = 0;
  int64_t time_ms = 0;
  int64_t dt_ms = 0;
  int64_t unix_ms = 0;
  int64_t step = 0;
  double charge_c = 0, discharge_c = 0, charge_j = 0, discharge_j = 0;
};

struct StepInfo {
  int64_t cycle = 0;
  int64_t step_index = 0;
  int status = 0;
};

// Where the v14 / v17 tables' pages hold their records: from page offset 132; the (voltage,
// current) pairs and aux values run to 4 bytes before the page end.
constexpr size_t kSplitFirst = 132, kSplitValueTail = 4;

// The v14 / v17 row tables, read: data.ndc's pairs, runInfo's sparse time / step / capacity
// records and data_step.ndc's steps, which join_split_rows turns into records.
struct SplitTables {
  std::vector<std::pair<float, float>> pairs;  // (voltage V, current A); Index = position + 1
  std::vector<RunInfo> runs;                   // sorted by Index, the first of a repeated Index kept
  std::vector<StepInfo> steps;                 // the k-th is step number k
};

// data.ndc's (voltage V, current A) pairs, in file order.
std::vector<std::pair<float, float>> read_pairs(const Ndc& data, const std::string& file) {
  std::vector<std::pair<float, float>> pairs;
  for_each_page(data, file, kSplitFirst, 8, kSplitValueTail, [&](const Bytes& page, size_t count, size_t) {
    for (size_t k = 0; k < count; ++k)
      pairs.emplace_back(page.f32(kSplitFirst + 8 * k, "a data pair"),
                         page.f32(kSplitFirst + 8 * k + 4, "a data pair"));
  });
  return pairs;
}

// Loads the member `name` that a v14 / v17 data.ndc needs beside it (the rows' time and step
// live there), failing the archive when it is missing.
Ndc load_companion(const Archive& zip, const Ndc& data, std::string_view name, uint8_t type) {
  const auto i = zip.find(name);
  if (!i) {
    zip.fail(
        fmt::format("data.ndc is version {} but the archive has no '{}', which holds the time "
                    "and step of its rows; the archive is incomplete",
                    data.version, name));
  }
  return load_ndc(zip, *i, type);
}

// A table written beside data.ndc must have its version: another layout cannot be read.
void check_same_version(const Archive& zip, const Ndc& data, const Ndc& table) {
  if (table.version != data.version) {
    zip.fail(fmt::format("'{}' is version {} but data.ndc is version {}; the archive is inconsistent",
                         table.name, table.version, data.version));
  }
}

// The runInfo records (Index 0 skipped), sorted by Index with the first of a repeated Index
// kept; capacities and energies from Ah and Wh to C and J.
std::vector<RunInfo> read_run_info(const Ndc& run_ndc, const std::string& file, const SplitLayout& layout) {
  std::vector<RunInfo> runs;
  for_each_page(run_ndc, file, kSplitFirst, layout.runinfo_size, layout.runinfo_tail,
                [&](const Bytes& page, size_t count, size_t number) {
                  for (size_t k = 0; k < count; ++k) {
                    const auto what = [&] {
                      return fmt::format("record {} of page {} of 'data_runInfo.ndc'", k + 1, number);
                    };
                    const Bytes r =
                        page.slice(kSplitFirst + k * layout.runinfo_size, layout.runinfo_size, "a record");
                    RunInfo ri;
                    ri.index = r.i32(41, neware::kField);
                    if (ri.index <= 0) continue;
                    ri.time_ms = r.i32(0, neware::kField);
                    ri.dt_ms = r.i32(29, neware::kField);
                    const int16_t ms = r.i16(45, neware::kField);
                    if (ms < 0 || ms > 999) {
                      r.fail(fmt::format("{} has {} ms in its Unix time; the table is corrupt", what(), ms));
                    }
                    ri.unix_ms = static_cast<int64_t>(r.i32(33, neware::kField)) * 1000 + ms;
                    ri.step = r.i32(37, neware::kField);
                    // Ah and Wh -> C and J.
                    ri.charge_c = r.f32(5, neware::kField) * neware::kSecondsPerHour;
                    ri.discharge_c = r.f32(9, neware::kField) * neware::kSecondsPerHour;
                    ri.charge_j = r.f32(13, neware::kField) * neware::kSecondsPerHour;
                    ri.discharge_j = r.f32(17, neware::kField) * neware::kSecondsPerHour;
                    runs.push_back(ri);
                  }
                });
  std::stable_sort(runs.begin(), runs.end(),
                   [](const RunInfo& a, const RunInfo& b) { return a.index < b.index; });
  runs.erase(std::unique(runs.begin(), runs.end(),
                         [](const RunInfo& a, const RunInfo& b) { return a.index == b.index; }),
             runs.end());
  return runs;
}

// The valid step records in order (v14: Step_Index != 0; v17: first data Index != 0).
std::vector<StepInfo> read_steps(const Ndc& step_ndc, const std::string& file, const SplitLayout& layout) {
  std::vector<StepInfo> steps;
  for_each_page(step_ndc, file, kSplitFirst, layout.step_size, layout.step_tail,
                [&](const Bytes& page, size_t count, size_t) {
                  for (size_t k = 0; k < count; ++k) {
                    const Bytes r = page.slice(kSplitFirst + k * layout.step_size, layout.step_size, "a record");
                    StepInfo s;
                    s.cycle = static_cast<int64_t>(r.i32(0, neware::kField)) + 1;
                    s.step_index = r.i32(4, neware::kField);
                    s.status = r.u8(24, neware::kField);
                    const bool valid =
                        layout.step_has_index ? r.i32(33, neware::kField) != 0 : s.step_index != 0;
                    if (valid) steps.push_back(s);
                  }
                });
  return steps;
}

// Fails the archive unless there are rows and runInfo covers them: a record for the first row
// (every row's time follows from an earlier record) and none beyond the last.
void check_run_info_covers_rows(const Archive& zip, const SplitTables& tables) {
  if (tables.pairs.empty()) zip.fail("data.ndc holds no (voltage, current) rows");
  const std::vector<RunInfo>& runs = tables.runs;
  if (runs.empty() || runs.front().index != 1) {
    zip.fail(
        fmt::format("'data_runInfo.ndc' has no record for the first row (its first Index is {}); "
                    "the rows' times are unknown, the archive is corrupt",
                    runs.empty() ? 0 : runs.front().index));
  }
  if (runs.back().index > static_cast<int64_t>(tables.pairs.size())) {
    zip.fail(
        fmt::format("'data_runInfo.ndc' describes row {} but data.ndc has only {} rows; the "
                    "archive is inconsistent or data.ndc is truncated",
                    runs.back().index, tables.pairs.size()));
  }
}

// One record per (voltage, current) pair: time, wall clock and capacities from its runInfo
// record, cycle, Step_Index and state from that record's step. Rows without a runInfo record
// follow the last one at its sampling interval (dt) and carry no capacities. Returns how many
// rows were so filled in. Expects check_run_info_covers_rows to have passed.
size_t join_split_rows(const Archive& zip, const Ndc& data, const std::string& file, const SplitTables& tables,
                       Decoded& d) {
  const std::vector<RunInfo>& runs = tables.runs;
  const std::vector<StepInfo>& steps = tables.steps;
  const Bytes context(data.bytes, file);
  size_t j = 0, filled = 0;
  const RunInfo* last = nullptr;
  int64_t k = 0;
  for (size_t i = 0; i < tables.pairs.size(); ++i) {
    const int64_t index = static_cast<int64_t>(i) + 1;
    const auto what = [&] { return fmt::format("row {} of data.ndc", index); };
    Record rec;
    rec.index = index;
    rec.voltage_v = tables.pairs[i].first;
    rec.current_a = tables.pairs[i].second;
    if (j < runs.size() && runs[j].index == index) {
      last = &runs[j++];
      k = 0;
      rec.charge_capacity_c = last->charge_c;
      rec.discharge_capacity_c = last->discharge_c;
      rec.charge_energy_j = last->charge_j;
      rec.discharge_energy_j = last->discharge_j;
    } else {
      ++k;
      ++filled;
    }
    const long double gap_ms = static_cast<long double>(k) * static_cast<long double>(last->dt_ms);
    rec.time_ns = neware::checked_time_ns(context, last->time_ms + gap_ms, 1e6L, what);
    rec.has_wall = true;
    rec.wall_ns = neware::checked_time_ns(context, last->unix_ms + gap_ms, 1e6L, what);
    if (last->step < 1 || static_cast<size_t>(last->step) > steps.size()) {
      zip.fail(
          fmt::format("'data_runInfo.ndc' puts row {} in step {}, but 'data_step.ndc' lists {} "
                      "steps; the archive is inconsistent",
                      index, last->step, steps.size()));
    }
    const StepInfo& s = steps[static_cast<size_t>(last->step) - 1];
    rec.step_key = static_cast<uint64_t>(last->step);
    rec.cycle = s.cycle;
    rec.step_index = s.step_index;
    rec.status = s.status;
    d.records.push_back(rec);
  }
  return filled;
}

// An auxiliary table member and the numbers in its name (data_AUX_<a>_<b>_<c>.ndc).
struct AuxFile {
  std::vector<long> key;
  size_t member;
};

// The data_AUX_*.ndc members sorted by the three numbers in their names: the order in which
// they pair with TestInfo's Aux1..AuxN.
std::vector<AuxFile> aux_files_in_order(const Archive& zip) {
  std::vector<AuxFile> aux_files;
  for (size_t i = 0; i < zip.names().size(); ++i) {
    const std::string& name = zip.names()[i];
    if (name.rfind("data_AUX_", 0) != 0 || !ends_with(name, ".ndc")) continue;
    AuxFile f{{}, i};
    std::string_view rest = std::string_view(name).substr(9, name.size() - 9 - 4);
    while (!rest.empty()) {
      const size_t us = rest.find('_');
      f.key.push_back(parse_long(std::string(rest.substr(0, us))).value_or(-1));
      if (us == std::string_view::npos) break;
      rest = rest.substr(us + 1);
    }
    aux_files.push_back(std::move(f));
  }
  std::sort(aux_files.begin(), aux_files.end(),
            [](const AuxFile& a, const AuxFile& b) { return a.key < b.key; });
  return aux_files;
}

// The auxiliary tables that TestInfo.xml's Aux<n> says are temperatures (channel type 103), as
// aux series joined on Index; the others are named in the notes as not imported.
void read_split_aux(const Archive& zip, const Ndc& data, const std::string& file, const std::string& testinfo,
                    Decoded& d) {
  const std::vector<AuxFile> aux_files = aux_files_in_order(zip);
  for (size_t n = 0; n < aux_files.size(); ++n) {
    const std::string element = fmt::format("Aux{}", n + 1);
    const std::string& name = zip.names()[aux_files[n].member];
    const auto type = parse_long(xml_attribute(testinfo, element, "ChlType"));
    const auto id = parse_long(xml_attribute(testinfo, element, "AuxID"));
    if (!type || !id) {
      d.notes.push_back(
          fmt::format("'{}' not imported: TestInfo.xml has no <{}> saying what it measures", name, element));
      continue;
    }
    if (*type != 103) {
      d.notes.push_back(
          fmt::format("'{}' not imported: its channel type {} (TestInfo.xml <{}>) is not "
                      "a temperature (103)",
                      name, *type, element));
      continue;
    }
    const Ndc aux = load_ndc(zip, aux_files[n].member, kTypeAux);
    check_same_version(zip, data, aux);
    neware::AuxSeries series{fmt::format("temperature_aux{}", *id),
                             "degC",
                             fmt::format("temperature (auxiliary channel {})", *id),
                             {}};
    int64_t index = 0;
    for_each_page(aux, file, kSplitFirst, 4, kSplitValueTail, [&](const Bytes& page, size_t count, size_t) {
      for (size_t v = 0; v < count; ++v)
        series.by_index.emplace_back(++index, page.f32(kSplitFirst + 4 * v, "an aux value"));
    });
    d.notes.push_back(
        fmt::format("'{}': {} temperature value(s) (TestInfo.xml <{}> AuxID {}, channel "
                    "type 103), in degC as stored",
                    name, series.by_index.size(), element, *id));
    d.aux.push_back(std::move(series));
  }
}

// data.ndc versions 14 and 17: (voltage, current) pairs joined with data_runInfo.ndc and
// data_step.ndc into records, plus the temperature aux tables.
void read_split(const Archive& zip, const Ndc& data, const std::string& file, const std::string& testinfo,
                Decoded& d) {
  const SplitLayout layout = split_layout(data.version);
  SplitTables tables;
  tables.pairs = read_pairs(data, file);
  const Ndc run_ndc = load_companion(zip, data, "data_runInfo.ndc", kTypeRunInfo);
  const Ndc step_ndc = load_companion(zip, data, "data_step.ndc", kTypeStep);
  for (const Ndc* t : {&run_ndc, &step_ndc}) check_same_version(zip, data, *t);
  tables.runs = read_run_info(run_ndc, file, layout);
  tables.steps = read_steps(step_ndc, file, layout);
  check_run_info_covers_rows(zip, tables);

  const size_t filled = join_split_rows(zip, data, file, tables, d);
  d.wall_naive = false;
  d.wall_what = "the Unix time in data_runInfo.ndc";
  d.notes.push_back(
      fmt::format("data.ndc version {}: {} (voltage, current) row(s); time, step and capacities from "
                  "data_runInfo.ndc ({} record(s)); cycle and state from data_step.ndc ({} step(s))",
                  data.version, tables.pairs.size(), tables.runs.size(), tables.steps.size()));
  if (filled > 0) {
    d.notes.push_back(fmt::format(
        "{} row(s) have no data_runInfo.ndc record: their time and wall clock follow the previous "
        "record at its sampling interval; capacities and energies are only given on rows with a "
        "record",
        filled));
  }
  read_split_aux(zip, data, file, testinfo, d);
}

bool known_member_name(std::string_view name) {
  if (ends_with(name, ".ndc")) return true;
  return std::find(std::begin(kKnownMembers), std::end(kKnownMembers), name) != std::end(kKnownMembers);
}

}  // namespace

bool looks_like_neware_ndax(std::string_view first_bytes) {
  constexpr size_t kNameOffset = 30;  // zip local file header: name length at 26, name at 30
  if (first_bytes.size() < kNameOffset || first_bytes.substr(0, 4) != std::string_view("PK\x03\x04", 4)) {
    return false;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(first_bytes.data());
  const size_t name_len = static_cast<size_t>(p[26] | (p[27] << 8));
  if (name_len == 0 || kNameOffset + name_len > first_bytes.size()) return false;
  return known_member_name(first_bytes.substr(kNameOffset, name_len));
}

ImportResult read_neware_ndax(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const std::string& path = in.path;
  if (options.kind != Kind::Cycler) {
    throw ImportError(path, 0, "",
                      "this is a Neware battery-cycler file; import it as cycler, not as ms or strain");
  }
  const Archive zip(path);
  const auto data_member = zip.find("data.ndc");
  if (!data_member) {
    std::string listed;
    for (const std::string& n : zip.names()) listed += (listed.empty() ? "" : ", ") + n;
    zip.fail(
        fmt::format("the zip archive has no 'data.ndc' (members: {}); it is not a Neware .ndax "
                    "or is incomplete",
                    listed.empty() ? "none" : listed));
  }

  auto read_text = [&](std::string_view name) -> std::string {
    const auto i = zip.find(name);
    return i ? zip.read(*i) : std::string();
  };
  const std::string version_info = read_text("VersionInfo.xml");
  const std::string test_info = read_text("TestInfo.xml");

  Decoded d;
  d.format = "neware-ndax";
  const Ndc data = load_ndc(zip, *data_member, kTypeData);
  std::string note =
      fmt::format("Neware .ndax (zip of {} members), data.ndc version {}", zip.names().size(), data.version);
  const auto server = xml_attribute(version_info, "ZwjVersion", "SvrVer");
  const auto client = xml_attribute(version_info, "ZwjVersion", "CurrClientVer");
  if (server && printable_ascii(*server)) note += fmt::format(", written by {}", *server);
  if (client && printable_ascii(*client)) note += fmt::format(" / {}", *client);
  d.notes.push_back(std::move(note));

  if (data.version == 5) {
    read_v5_data(data, path, d);
    for (const std::string& name : zip.names()) {
      if (name.rfind("data_AUX_", 0) == 0) {
        d.notes.push_back(
            fmt::format("'{}' not imported: the version 5 auxiliary layout is not yet "
                        "confirmed on a real file",
                        name));
      }
    }
  } else if (data.version == 14 || data.version == 17) {
    read_split(zip, data, path, test_info, d);
  } else {
    zip.fail(fmt::format("data.ndc version {} (byte 2) is not supported; versions 5, 14 and 17 are",
                         data.version));
  }
  const auto start_time = xml_attribute(test_info, "TestInfo", "StartTime");
  if (start_time && printable_ascii(*start_time)) {
    d.notes.push_back(
        fmt::format("TestInfo.xml StartTime '{}' is the cycler PC's local time (no "
                    "zone); not used for the start",
                    *start_time));
  }
  return neware::assemble(std::move(d), options, times);
}

}  // namespace opsync::import
