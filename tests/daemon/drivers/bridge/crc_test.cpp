// CRC-32C and CRC-16/CCITT-FALSE against the check values and RFC 3720 vectors quoted in
// shared/protocols/framing-and-sync.md section 2.
#include "drivers/bridge/crc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace opsync::drivers::bridge {
namespace {

const uint8_t* bytes_of(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(Crc32c, CheckValue) { EXPECT_EQ(crc32c(bytes_of("123456789"), 9), 0xE3069283u); }

TEST(Crc32c, Rfc3720Vectors) {
  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xFF), ramp(32);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ramp.data(), ramp.size()), 0x46DD794Eu);
}

TEST(Crc32c, EmptyIsZero) { EXPECT_EQ(crc32c(nullptr, 0), 0u); }

TEST(Crc32c, IncrementalEqualsOneShot) {
  const std::string_view s = "123456789";
  uint32_t state = crc32c_init();
  state = crc32c_update(state, bytes_of(s), 4);
  state = crc32c_update(state, bytes_of(s) + 4, 5);
  EXPECT_EQ(crc32c_final(state), 0xE3069283u);
}

TEST(Crc32c, LittleEndianCrcGivesTheDocResidue) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint8_t> data(static_cast<size_t>(trial));
    for (uint8_t& b : data) b = static_cast<uint8_t>(byte(rng));
    const uint32_t crc = crc32c(data.data(), data.size());
    for (int i = 0; i < 4; ++i) data.push_back(static_cast<uint8_t>(crc >> (8 * i)));
    ASSERT_EQ(crc32c(data.data(), data.size()), 0x48674BC7u);
  }
  EXPECT_EQ(kCrc32cGoodResidue, 0x48674BC7u);
}

TEST(Crc16, CheckValueAndEmpty) {
  EXPECT_EQ(crc16_ccitt_false(bytes_of("123456789"), 9), 0x29B1);
  EXPECT_EQ(crc16_ccitt_false(nullptr, 0), 0xFFFF);
}

TEST(Crc16, BigEndianCrcGivesZeroResidue) {
  std::vector<uint8_t> data = {0x08, 0x00, 0x10, 0x05};
  const uint16_t crc = crc16_ccitt_false(data.data(), data.size());
  EXPECT_EQ(crc, 0x52D5);  // the doc's worked frame
  data.push_back(static_cast<uint8_t>(crc >> 8));
  data.push_back(static_cast<uint8_t>(crc & 0xFF));
  EXPECT_EQ(crc16_ccitt_false(data.data(), data.size()), 0);
}

}  // namespace
}  // namespace opsync::drivers::bridge
