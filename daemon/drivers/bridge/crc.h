// CRC-32C (Castagnoli, CRC-32/ISCSI) that protects every bridge frame, and CRC-16/CCITT-FALSE
// (CRC-16/IBM-3740) for links that want a shorter check. Parameters and check values are in
// shared/protocols/framing-and-sync.md section 2.
#pragma once

#include <cstddef>
#include <cstdint>

namespace opsync::drivers::bridge {

// CRC-32C over the data appended with its own CRC in little-endian order always gives this
// (the residue 0xB798B438 after the final xor), so a receiver checks a frame in one pass.
inline constexpr uint32_t kCrc32cGoodResidue = 0x48674BC7;

// Incremental form: start from crc32c_init(), feed chunks, finish with crc32c_final().
constexpr uint32_t crc32c_init() { return 0xFFFFFFFFu; }
uint32_t crc32c_update(uint32_t state, const uint8_t* data, size_t n);
constexpr uint32_t crc32c_final(uint32_t state) { return state ^ 0xFFFFFFFFu; }

uint32_t crc32c(const uint8_t* data, size_t n);

// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor); sent big-endian,
// after which the CRC over data + CRC is 0.
uint16_t crc16_ccitt_false(const uint8_t* data, size_t n);

}  // namespace opsync::drivers::bridge
