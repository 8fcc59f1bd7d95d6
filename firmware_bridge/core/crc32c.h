// CRC-32C (Castagnoli; CRC-32/ISCSI: reflected poly 0x82F63B78, init and final xor 0xFFFFFFFF),
// the check on every bridge frame. Check value crc32c("123456789") = 0xE3069283
// (shared/protocols/framing-and-sync.md section 2).
#pragma once

#include <cstddef>
#include <cstdint>

namespace opsync::fw {

// CRC-32C over data followed by its own CRC (little-endian) is always this: a receiver checks
// a frame in one pass without locating the CRC first.
inline constexpr uint32_t kCrc32cResidue = 0x48674BC7u;

constexpr uint32_t crc32c_init() { return 0xFFFFFFFFu; }
uint32_t crc32c_update(uint32_t state, const uint8_t* data, size_t n);
constexpr uint32_t crc32c_final(uint32_t state) { return state ^ 0xFFFFFFFFu; }
uint32_t crc32c(const uint8_t* data, size_t n);

}  // namespace opsync::fw
