// Firmware CRC-32C: the catalogue check value, the RFC 3720 B.4 vectors, the one-pass residue,
// incremental updates, and agreement with the daemon's implementation.
#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "drivers/bridge/crc.h"

namespace opsync::fw {
namespace {

TEST(FwCrc32c, CheckValue) {
  const char* check = "123456789";
  EXPECT_EQ(crc32c(reinterpret_cast<const uint8_t*>(check), std::strlen(check)), 0xE3069283u);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
}

TEST(FwCrc32c, Rfc3720Vectors) {
  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xFF), ascending(32);
  for (int i = 0; i < 32; ++i) ascending[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending.data(), ascending.size()), 0x46DD794Eu);
}

TEST(FwCrc32c, ResidueAfterTheCrcLittleEndian) {
  std::mt19937 rng(3);
  for (int iter = 0; iter < 200; ++iter) {
    std::vector<uint8_t> data(rng() % 80);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    const uint32_t crc = crc32c(data.data(), data.size());
    for (int i = 0; i < 4; ++i) data.push_back(static_cast<uint8_t>(crc >> (8 * i)));
    EXPECT_EQ(crc32c(data.data(), data.size()), kCrc32cResidue);
  }
}

TEST(FwCrc32c, IncrementalEqualsOneShotAndMatchesTheDaemon) {
  std::mt19937 rng(4);
  for (int iter = 0; iter < 500; ++iter) {
    std::vector<uint8_t> data(rng() % 300);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    const size_t cut = data.empty() ? 0 : rng() % data.size();
    uint32_t s = crc32c_init();
    s = crc32c_update(s, data.data(), cut);
    s = crc32c_update(s, data.data() + cut, data.size() - cut);
    EXPECT_EQ(crc32c_final(s), crc32c(data.data(), data.size()));
    EXPECT_EQ(crc32c(data.data(), data.size()), drivers::bridge::crc32c(data.data(), data.size()));
  }
}

}  // namespace
}  // namespace opsync::fw
