// Table-driven CRC-32C. The 1 KiB table is computed by the compiler and lives in flash (const);
// byte-at-a-time is ample for frames of at most 67 bytes.
#include "crc32c.h"

namespace opsync::fw {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78u;

struct Table {
  uint32_t entry[256];
};

constexpr Table make_table() {
  Table t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1u) != 0 ? (crc >> 1) ^ kPolyReflected : crc >> 1;
    t.entry[i] = crc;
  }
  return t;
}

constexpr Table kTable = make_table();

}  // namespace

uint32_t crc32c_update(uint32_t state, const uint8_t* data, size_t n) {
  for (size_t i = 0; i < n; ++i) state = (state >> 8) ^ kTable.entry[(state ^ data[i]) & 0xFFu];
  return state;
}

uint32_t crc32c(const uint8_t* data, size_t n) { return crc32c_final(crc32c_update(crc32c_init(), data, n)); }

}  // namespace opsync::fw
