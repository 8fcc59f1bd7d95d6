// Builds small BioLogic .mpr files byte by byte for the reader's tests, from the layout in
// shared/formats/biologic-mpr-mpt.md (magic, module headers, data module layouts, LOG date),
// so each layout can be tested without a real file of that kind.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace opsync::import::testing {

// Little-endian appenders.
inline void put_le(std::string& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline void put_u8(std::string& out, uint8_t v) { put_le(out, v, 1); }
inline void put_u16(std::string& out, uint16_t v) { put_le(out, v, 2); }
inline void put_u32(std::string& out, uint32_t v) { put_le(out, v, 4); }
inline void put_f32(std::string& out, float v) { put_le(out, std::bit_cast<uint32_t>(v), 4); }
inline void put_f64(std::string& out, double v) { put_le(out, std::bit_cast<uint64_t>(v), 8); }

inline std::string padded(std::string_view s, size_t n) {
  std::string out(s.substr(0, n));
  out.resize(n, ' ');
  return out;
}

// "BIO-LOGIC MODULAR FILE\x1A", spaces to 48 bytes, four zero bytes.
inline std::string mpr_magic() {
  std::string m = padded("BIO-LOGIC MODULAR FILE\x1A", 48);
  m.append(4, '\0');
  return m;
}

enum class MprHeader { Old, New };

// "MODULE" + header + payload. Old header: names, length, version, date. New header: names,
// FF FF FF FF, length, version, version2, date.
inline std::string mpr_module(std::string_view short_name, const std::string& payload, MprHeader header,
                              uint32_t version, uint32_t version2 = 0, std::string_view date = "06/01/24") {
  std::string m = "MODULE";
  m += padded(short_name, 10);
  m += padded(short_name, 25);
  if (header == MprHeader::New) {
    put_u32(m, 0xFFFFFFFFu);
    put_u32(m, static_cast<uint32_t>(payload.size()));
    put_u32(m, version);
    put_u32(m, version2);
  } else {
    put_u32(m, static_cast<uint32_t>(payload.size()));
    put_u32(m, version);
  }
  m += padded(date, 8);
  m += payload;
  return m;
}

// Data module payload: point count, column count (u8 for old layouts, u16 for the new one),
// the ids as u16, zeros up to the first record (405 for v2, 406 for v3 with byte 405 = 1,
// 1007 for the new layout with byte 1006 = 1), then the packed records.
inline std::string mpr_data_payload(MprHeader header, uint32_t version, const std::vector<uint16_t>& ids,
                                    uint32_t n_points, const std::string& records) {
  std::string p;
  put_u32(p, n_points);
  size_t start = 0;
  if (header == MprHeader::New) {
    put_u16(p, static_cast<uint16_t>(ids.size()));
    start = 1007;
  } else {
    put_u8(p, static_cast<uint8_t>(ids.size()));
    start = version == 2 ? 405 : 406;
  }
  for (uint16_t id : ids) put_u16(p, id);
  p.resize(start, '\0');
  if (start != 405) p[start - 1] = 1;
  return p + records;
}

// LOG payload with the OLE start date at offset 585.
inline std::string mpr_log_payload(double ole_days) {
  std::string p(585, '\0');
  put_f64(p, ole_days);
  p.resize(700, '\0');
  return p;
}

}  // namespace opsync::import::testing
