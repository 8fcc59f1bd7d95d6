// Neware .nda reader. v29: 86-byte integer records after a header, currents and capacities
// scaled by a current-range code, step time in ms, local date fields. v130 (BTS 9.1): float
// records of a fixed length from byte 1024, test time and Unix time, ended by an 0x81 footer;
// v130 (BTS 9.0): 88-byte float records. Layouts: shared/formats/neware-nda-ndax.md sections 1-3.
#include "import/neware/neware_nda.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "core/time_format.h"
#include "import/common/mapped_file.h"
#include "import/neware/neware_common.h"

namespace opsync::import {
namespace {

using neware::Bytes;
using neware::Decoded;
using neware::Record;

constexpr std::string_view kMagic = "NEWARE";
constexpr size_t kVersionOffset = 14;

// v29
constexpr size_t kV29RecordSize = 86;
// v29 header copies of the file length (u32 at 72 and 80): observed on the v29 fixture
// (both = file size), not in NewareNDA; used only to notice a file cut at a record boundary.
constexpr size_t kV29LengthOffsets[] = {72, 80};
// Record kinds: 0x55 data, 0x65 auxiliary, 0xAA a non-data record seen 5 times in the v29
// fixture (not decoded). Any other first byte is not a record.
constexpr uint8_t kV29OtherKind = 0xAA;
// Data record fields (format notes section 2). Status 0 marks a record that is no row, as Index
// 0 does; the step key is the u32 at 10 (Step_Index, Status and byte 13).
constexpr neware::IntegerRecordLayout kV29Layout{.index = 2,
                                                 .cycle = 6,
                                                 .step_index = 10,
                                                 .step_index_bytes = 2,
                                                 .status = 12,
                                                 .step_key = 10,
                                                 .time_ms = 14,
                                                 .voltage = 22,
                                                 .current = 26,
                                                 .amounts = 38,
                                                 .date = 70,
                                                 .range = 78,
                                                 .status_zero_is_no_row = true};

// v130
constexpr size_t kV130DataStart = 1024;
constexpr uint8_t kV130Footer = 0x81;
constexpr size_t kV130MinRecord = 52;  // fields up to the Unix ns at 48..51
constexpr size_t kV130MaxRecord = 1024;
constexpr size_t kV130TemperatureRecord = 56;  // BTS 9.1 records carrying aux temperature 1 at 52
constexpr size_t kBts90RecordSize = 88;
constexpr size_t kBtsVersionOffset = 258;
constexpr size_t kHeaderSearchBytes = 128 * 1024;  // the v29 fixture's records start at byte 85471  // observed in the v130 fixture: "9.1.5.7.20240403.R5"

std::string record_what(size_t number, size_t offset) {
  return fmt::format("record {} at byte {}", number, offset);
}

void add_version_note(const Bytes& b, int version, Decoded& d) {
  std::string note = fmt::format("Neware .nda version {} (file date {})", version, b.c_string(6, 8));
  // Only the header is searched (byte 3096 in the v29 fixture), never a whole, possibly huge, file.
  const size_t server = b.view().substr(0, kHeaderSearchBytes).find("BTSServer");
  if (server != std::string_view::npos) {
    const std::string s = b.c_string(server, 50);
    const std::string c = b.c_string(server + 100, 50);
    if (!s.empty()) note += fmt::format(", written by {}", s);
    if (!c.empty()) note += fmt::format(" / {}", c);
  }
  d.notes.push_back(std::move(note));
}

// ---- version 29 ----------------------------------------------------------------------------

// The first record: after "00 00 00 00 55 00", confirmed by another 0x55 one record later and
// a non-zero status.
size_t find_v29_start(const Bytes& b) {
  static constexpr char kPattern[] = {0, 0, 0, 0, 0x55, 0};
  const std::string_view pattern(kPattern, sizeof kPattern);
  size_t from = 0;
  while (true) {
    const size_t hit = b.view().find(pattern, from);
    if (hit == std::string_view::npos) {
      b.fail(
          "no data record found (no '55 00' record after the header); the file is truncated, "
          "corrupt or holds no data");
    }
    const size_t start = hit + 4;
    if (start + kV29RecordSize < b.size() && b.u8(start + kV29RecordSize, "v29 start") == 0x55 &&
        b.u8(start + 12, "v29 start") != 0) {
      return start;
    }
    from = hit + 1;
  }
}

Decoded read_v29(const Bytes& b) {
  Decoded d;
  d.format = "neware-nda";
  d.wall_naive = true;
  d.wall_what = "the date fields";
  add_version_note(b, 29, d);
  const uint32_t mass_ug = b.u32(152, "the v29 header (active mass)");
  if (mass_ug != 0) d.notes.push_back(fmt::format("active mass in the header: {:g} mg", mass_ug / 1000.0));

  for (size_t off : kV29LengthOffsets) {
    const uint32_t stated = b.u32(off, "the v29 header (file length)");
    if (stated != 0 && stated != b.size()) {
      b.fail(
          fmt::format("the header gives the file length as {} bytes (u32 at byte {}) but the file "
                      "has {}; it is truncated or was changed",
                      stated, off, b.size()));
    }
  }

  const size_t start = find_v29_start(b);
  if ((b.size() - start) % kV29RecordSize != 0) {
    b.fail(
        fmt::format("the file ends inside a record: {} bytes after the first record at byte {} "
                    "is not a whole number of {}-byte records; it is truncated",
                    b.size() - start, start, kV29RecordSize));
  }
  size_t aux = 0, other = 0, dropped = 0;
  size_t number = 0;
  // Slots that are no record kind of this format (zeroed or overwritten), as runs.
  size_t bad_from = 0, bad_count = 0;
  const auto flush_bad = [&](bool at_end) {
    if (bad_count == 0) return;
    d.damage.push_back(Damage{
        fmt::format("records {}..{} (bytes {}..{})", number - bad_count + (at_end ? 1 : 0),
                    number - (at_end ? 0 : 1), bad_from, bad_from + bad_count * kV29RecordSize),
        fmt::format("{} {}-byte slot(s) hold no known record kind (zeroed or overwritten){}", bad_count,
                    kV29RecordSize, at_end ? ", up to the end of the file" : ""),
        at_end ? bad_count : 0,  // in the middle, the Index jump after them counts the rows
        std::nullopt});
    bad_count = 0;
  };
  for (size_t off = start; off + kV29RecordSize <= b.size(); off += kV29RecordSize) {
    ++number;
    const Bytes r = b.slice(off, kV29RecordSize, "a v29 record");
    const bool tail_zero = r.u32(82, "tail") == 0;
    const uint8_t kind = r.u8(0, "kind");
    const bool known = tail_zero && r.u8(1, "kind") == 0 && (kind == 0x55 || kind == 0x65 || kind == kV29OtherKind);
    if (!known) {
      if (bad_count++ == 0) bad_from = off;
      continue;
    }
    flush_bad(false);
    if (kind == 0x65) {
      ++aux;
      continue;
    }
    if (kind != 0x55) {
      ++other;
      continue;
    }
    const auto what = [&] { return record_what(number, off); };
    neware::IntegerRecord decoded;
    try {
      decoded = neware::decode_integer_record(r, kV29Layout, what);
    } catch (const ImportError& e) {  // a time no test lasts: this record is damaged
      d.damage.push_back(Damage{what(), neware::without_file(e), 1, std::nullopt});
      continue;
    }
    if (decoded.outcome == neware::IntegerRecordOutcome::NoRow) {
      ++dropped;
      continue;
    }
    if (decoded.outcome == neware::IntegerRecordOutcome::UnknownRange) {
      d.damage.push_back(Damage{what(),
                                fmt::format("current range code {} is not in Neware's range table (a damaged "
                                            "record, or a cycler model this reader does not know)",
                                            decoded.range),
                                1, std::nullopt});
      continue;
    }
    d.records.push_back(decoded.record);
  }
  flush_bad(true);
  d.notes.push_back(
      fmt::format("{} data record(s) of {} bytes from byte {}; time in ms, dates "
                  "to the second; current and capacity scaled by the record's "
                  "current-range code",
                  d.records.size(), kV29RecordSize, start));
  if (aux > 0) {
    d.notes.push_back(
        fmt::format("{} auxiliary record(s) (0x65) not imported: their layout is not "
                    "yet confirmed on a real file",
                    aux));
  }
  if (other + dropped > 0) {
    d.notes.push_back(
        fmt::format("{} other record(s) (not data) and {} data record(s) with row "
                    "number or status 0 skipped",
                    other, dropped));
  }
  return d;
}

// ---- version 130 ---------------------------------------------------------------------------

// Walks fixed-size records from byte 1024 up to the 0x81 end marker. A record counts only when
// the next one (or the end marker) starts where its length says: a byte inserted, lost or
// overwritten breaks that, and the walk then looks for the next place where two records in a
// row start with increasing Index, recording the bytes in between as damage. A record cut by
// the end of the file, or (BTS 9.1, where every file seen has one) a missing end marker, means
// truncation.
constexpr size_t kReleaseEvery = size_t{64} << 20;  // bytes walked between giving pages back

struct RecordShape {
  size_t size = 0;
  bool footer_required = true;
  std::function<bool(size_t)> starts;         // a record of this file can start at this byte
  std::function<int64_t(size_t)> index_at;     // its Index (0 for a record without one)
  std::optional<char> lead;                    // the first byte of every record, if there is one
};

template <typename Fn>
void walk_v130(const Bytes& b, const RecordShape& shape, std::vector<Damage>& damage, Fn&& on_record) {
  const size_t n = b.size(), len = shape.size;
  const auto is_footer = [&](size_t p) { return p < n && b.u8(p, "a v130 record") == kV130Footer; };
  const auto record_at = [&](size_t p) { return p + len <= n && shape.starts(p); };
  // The next byte from `p` on where a record may start (one with the lead byte, when records
  // have one), searched a chunk at a time so that pages of a huge file are given back behind.
  const char* data = b.view().data();
  const auto next_candidate = [&](size_t p) {
    while (p < n) {
      const size_t chunk_end = std::min(n, (p / kReleaseEvery + 1) * kReleaseEvery);
      if (!shape.lead) {
        if (p % kReleaseEvery == 0) release_mapped_before(data + p);
        return p;
      }
      if (const void* hit = std::memchr(data + p, *shape.lead, chunk_end - p))
        return static_cast<size_t>(static_cast<const char*>(hit) - data);
      release_mapped_before(data + chunk_end);
      // Holes of a sparse file read as zeros, never the lead byte: skip them unread.
      p = std::max(chunk_end, static_cast<size_t>(skip_mapped_hole(data + chunk_end) - data));
    }
    return n;
  };
  size_t off = kV130DataStart, number = 0;
  int64_t last_index = 0;
  while (true) {
    if (off == n && !shape.footer_required) return;
    if (off >= n) {
      b.fail(
          fmt::format("no end-of-data marker (0x81) after the last record (byte {}); the file is "
                      "truncated",
                      off));
    }
    if (is_footer(off)) return;
    if (len > n - off) {
      b.fail(fmt::format("the file ends inside record {} at byte {} ({} of {} bytes); it is truncated",
                         number + 1, off, n - off, len));
    }
    const size_t next = off + len;
    // (A next record cut by the end of the file is reported as truncation on the next pass.)
    // Records without an Index (0: aux records, blank slots) are taken by their start alone.
    const auto follows = [&](size_t p, size_t q) {
      const int64_t a = shape.index_at(p), c = shape.index_at(q);
      return a == 0 || c == 0 || c == a + 1;
    };
    const bool in_step =
        record_at(off) && (len > n - next || is_footer(next) || (record_at(next) && follows(off, next)));
    if (in_step) {
      ++number;
      if (const int64_t index = shape.index_at(off); index > 0) last_index = index;
      try {
        on_record(b.slice(off, len, "a v130 record"), number, off);
      } catch (const ImportError& e) {  // a field no record can hold: this record is damaged
        damage.push_back(Damage{record_what(number, off), neware::without_file(e), 1, std::nullopt});
      }
      if (off / kReleaseEvery != next / kReleaseEvery) release_mapped_before(b.view().data() + off);
      off = next;
      continue;
    }
    // Out of step: resume where two records with increasing Index follow each other (or the
    // last record before the end marker).
    size_t resume = n;
    for (size_t p = next_candidate(off + 1); p + len <= n; p = next_candidate(p + 1)) {
      if (!shape.starts(p)) continue;
      // An Index must be above the last one read, and not beyond what the file could hold.
      const int64_t index = shape.index_at(p);
      if (index <= last_index || index > last_index + static_cast<int64_t>(n / len) + 1) continue;
      const size_t q = p + len;
      if (is_footer(q) || (record_at(q) && shape.index_at(q) == shape.index_at(p) + 1)) {
        resume = p;
        break;
      }
    }
    damage.push_back(Damage{
        fmt::format("bytes {}..{} (after record {})", off, resume, number),
        resume < n ? fmt::format("{} bytes do not continue the {}-byte records (a byte inserted, lost or "
                                 "overwritten, or a block written twice); reading resumed at byte {}",
                                 resume - off, len, resume)
                   : fmt::format("{} bytes up to the end of the file hold no more records in sequence and no "
                                 "end-of-data marker",
                                 n - off),
        0, std::nullopt});
    if (resume >= n) return;
    off = resume;
  }
}

Decoded read_v130(const Bytes& b) {
  Decoded d;
  d.format = "neware-nda";
  d.wall_naive = false;
  d.wall_what = "the Unix time";
  add_version_note(b, 130, d);
  const std::string bts = b.c_string(kBtsVersionOffset, 40);
  if (!bts.empty() && bts.front() >= '0' && bts.front() <= '9')
    d.notes.back() += fmt::format(", BTS {}", bts);
  if (b.size() < kV130DataStart + 2) {
    b.fail(
        fmt::format("the file has {} bytes; a version 130 file has its records from byte {}, so "
                    "it is truncated",
                    b.size(), kV130DataStart));
  }
  size_t dropped = 0;
  if (b.u8(kV130DataStart, "the first record") == 0x55) {
    // BTS 9.1: record length = distance to the next occurrence of the first two bytes.
    const std::string_view lead = b.view().substr(kV130DataStart, 2);
    const size_t next = b.view().find(lead, kV130DataStart + 1);
    if (next == std::string_view::npos) {
      b.fail(
          "cannot find a second record after byte 1024 (records repeat their first two "
          "bytes); the file is truncated or corrupt");
    }
    const size_t length = next - kV130DataStart;
    if (length < kV130MinRecord || length > kV130MaxRecord) {
      b.fail(fmt::format("the records would be {} bytes long (expected {} to {}); the file is corrupt",
                         length, kV130MinRecord, kV130MaxRecord));
    }
    const bool has_temperature = length == kV130TemperatureRecord;
    neware::AuxSeries temperature{"temperature_aux1", "degC", "temperature (auxiliary channel 1)", {}};
    RecordShape shape;
    shape.size = length;
    shape.footer_required = true;
    shape.starts = [&](size_t p) { return b.u8(p, "a v130 record") == 0x55; };
    shape.lead = '\x55';
    shape.index_at = [&](size_t p) { return static_cast<int64_t>(b.u32(p + 8, "a v130 record")); };
    walk_v130(b, shape, d.damage, [&](const Bytes& r, size_t number, size_t off) {
      const auto what = [&] { return record_what(number, off); };
      Record rec;
      rec.index = r.u32(8, neware::kField);
      if (rec.index == 0) {
        ++dropped;
        return;
      }
      rec.step_index = r.u8(2, neware::kField);
      rec.step_key = static_cast<uint64_t>(rec.step_index);
      rec.status = r.u8(3, neware::kField);
      const uint32_t time_ns_part = r.u32(16, neware::kField);
      const uint32_t unix_ns_part = r.u32(48, neware::kField);
      if (time_ns_part >= 1'000'000'000u || unix_ns_part >= 1'000'000'000u) {
        d.damage.push_back(Damage{what(), "a nanosecond field holds 1 s or more", 1, std::nullopt});
        return;
      }
      rec.time_ns = static_cast<int64_t>(r.u32(12, neware::kField)) * kNsPerS + time_ns_part;
      rec.current_a = r.f32(20, neware::kField) / 1e3;
      rec.voltage_v = r.f32(24, neware::kField);
      // Capacity (mAs) and energy (mWs) carry the direction in their sign: + charge, - discharge.
      const double cap_c = r.f32(28, neware::kField) / 1e3;
      const double energy_j = r.f32(32, neware::kField) / 1e3;
      rec.charge_capacity_c = cap_c > 0 ? cap_c : 0.0;
      rec.discharge_capacity_c = cap_c < 0 ? -cap_c : 0.0;
      rec.charge_energy_j = energy_j > 0 ? energy_j : 0.0;
      rec.discharge_energy_j = energy_j < 0 ? -energy_j : 0.0;
      rec.cycle = static_cast<int64_t>(r.u32(36, neware::kField)) + 1;
      rec.has_wall = true;
      rec.wall_ns = static_cast<int64_t>(r.u32(44, neware::kField)) * kNsPerS + unix_ns_part;
      if (has_temperature) temperature.by_index.emplace_back(rec.index, r.f32(52, neware::kField));
      d.records.push_back(rec);
    });
    if (has_temperature) d.aux.push_back(std::move(temperature));
    d.notes.push_back(fmt::format("BTS 9.1 layout: {} data record(s) of {} bytes from byte {}{}",
                                  d.records.size(), length, kV130DataStart,
                                  has_temperature ? ", each with auxiliary temperature 1" : ""));
  } else {
    // BTS 9.0: 88-byte records; data records repeat the first 6 bytes of the first one.
    const std::string_view signature = b.view().substr(kV130DataStart, 6);
    size_t aux = 0;
    const std::string_view aux_lead("\0\0\0\0\x65", 5);
    RecordShape shape;
    shape.size = kBts90RecordSize;
    shape.footer_required = false;
    shape.starts = [&](size_t p) {
      const std::string_view r = b.view().substr(p, 6);
      return r == signature || r.substr(0, 5) == aux_lead;
    };
    shape.index_at = [&](size_t p) {
      return b.view().substr(p, 6) == signature ? static_cast<int64_t>(b.u32(p + 16, "a v130 record")) : 0;
    };
    walk_v130(b, shape, d.damage, [&](const Bytes& r, size_t number, size_t off) {
      if (r.view().substr(0, 5) == aux_lead) {
        ++aux;
        return;
      }
      const auto what = [&] { return record_what(number, off); };
      Record rec;
      rec.index = r.u32(16, neware::kField);
      if (rec.index == 0) {
        ++dropped;
        return;
      }
      rec.step_index = r.u8(9, neware::kField);
      rec.step_key = static_cast<uint64_t>(rec.step_index);
      rec.status = r.u8(10, neware::kField);
      rec.time_ns =
          neware::checked_time_ns(b, static_cast<long double>(r.u64(28, neware::kField)), 1e3L, what);
      rec.voltage_v = r.f32(36, neware::kField);
      rec.current_a = r.f32(40, neware::kField) / 1e3;
      // mAs / mWs -> C / J; some files store discharge negative, so magnitudes are kept.
      rec.charge_capacity_c = std::fabs(r.f32(52, neware::kField) / 1e3);
      rec.charge_energy_j = std::fabs(r.f32(56, neware::kField) / 1e3);
      rec.discharge_capacity_c = std::fabs(r.f32(60, neware::kField) / 1e3);
      rec.discharge_energy_j = std::fabs(r.f32(64, neware::kField) / 1e3);
      const uint64_t unix_us = r.u64(68, neware::kField);
      if (unix_us > 0 && unix_us < 9'000'000'000'000'000ull) {
        rec.has_wall = true;
        rec.wall_ns = static_cast<int64_t>(unix_us) * 1000;
      }
      d.records.push_back(rec);
    });
    d.has_cycle = false;
    d.notes.push_back(
        fmt::format("BTS 9.0 layout ({}-byte records; taken from NewareNDA's "
                    "description, not yet checked on a file here): {} data "
                    "record(s); no cycle number stored",
                    kBts90RecordSize, d.records.size()));
    if (aux > 0) {
      d.notes.push_back(
          fmt::format("{} auxiliary record(s) not imported: their layout is not yet "
                      "confirmed on a real file",
                      aux));
    }
  }
  if (dropped > 0) d.notes.push_back(fmt::format("{} data record(s) with row number 0 skipped", dropped));
  return d;
}

}  // namespace

bool looks_like_neware_nda(std::string_view bytes) { return bytes.substr(0, kMagic.size()) == kMagic; }

ImportResult read_neware_nda(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const std::string_view bytes = in.bytes;
  const Bytes b(bytes, times.file());
  if (!looks_like_neware_nda(bytes)) b.fail("not a Neware .nda file: it does not start with 'NEWARE'");
  if (options.kind != Kind::Cycler) {
    b.fail("this is a Neware battery-cycler file; import it as cycler, not as ms or strain");
  }
  const uint8_t version = b.u8(kVersionOffset, "the version byte of the .nda header");
  Decoded d;
  if (version == 29) {
    d = read_v29(b);
  } else if (version == 130) {
    d = read_v130(b);
  } else {
    b.fail(fmt::format(".nda version {} (byte 14) is not supported; versions 29 and 130 are", version));
  }
  return neware::assemble(std::move(d), options, times);
}

}  // namespace opsync::import
