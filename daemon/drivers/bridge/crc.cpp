// Table-driven CRC-32C (table built at compile time from the reflected polynomial) and a bitwise
// CRC-16/CCITT-FALSE: frames are short, so the small form is enough for the 16-bit one.
#include "drivers/bridge/crc.h"

#include <array>

namespace opsync::drivers::bridge {
namespace {

constexpr uint32_t kCrc32cPolyReflected = 0x82F63B78u;

constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1u) ? (crc >> 1) ^ kCrc32cPolyReflected : crc >> 1;
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

}  // namespace

uint32_t crc32c_update(uint32_t state, const uint8_t* data, size_t n) {
  for (size_t i = 0; i < n; ++i) state = (state >> 8) ^ kCrc32cTable[(state ^ data[i]) & 0xFFu];
  return state;
}

uint32_t crc32c(const uint8_t* data, size_t n) { return crc32c_final(crc32c_update(crc32c_init(), data, n)); }

uint16_t crc16_ccitt_false(const uint8_t* data, size_t n) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < n; ++i) {
    crc = static_cast<uint16_t>(crc ^ (data[i] << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000u) ? static_cast<uint16_t>((crc << 1) ^ 0x1021u) : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

}  // namespace opsync::drivers::bridge
