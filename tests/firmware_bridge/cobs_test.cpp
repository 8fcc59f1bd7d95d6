// Firmware COBS: the worked examples of shared/protocols/framing-and-sync.md, round trips over
// every length up to 1000 with and without zeros, the worst-case size, the 254/255-byte block
// boundaries, malformed input, and byte-for-byte agreement with the daemon's encoder.
#include "core/cobs.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "drivers/bridge/cobs.h"

namespace opsync::fw {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes encode(const Bytes& in) {
  Bytes out(cobs_max_encoded_size(in.size()));
  const size_t n = cobs_encode(in.data(), in.size(), out.data(), out.size());
  EXPECT_NE(n, 0u);
  out.resize(n);
  return out;
}

Bytes decode(const Bytes& in, bool* ok = nullptr) {
  Bytes out(in.size());
  const ptrdiff_t n = cobs_decode(in.data(), in.size(), out.data(), out.size());
  if (ok != nullptr) *ok = n >= 0;
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

Bytes range(int first, int last) {  // inclusive
  Bytes b;
  for (int v = first; v <= last; ++v) b.push_back(static_cast<uint8_t>(v));
  return b;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(FwCobs, WorkedExamplesOfTheFramingNote) {
  EXPECT_EQ(encode({0x00}), (Bytes{0x01, 0x01}));
  EXPECT_EQ(encode({0x00, 0x00}), (Bytes{0x01, 0x01, 0x01}));
  EXPECT_EQ(encode({0x00, 0x11, 0x00}), (Bytes{0x01, 0x02, 0x11, 0x01}));
  EXPECT_EQ(encode({0x11, 0x22, 0x00, 0x33}), (Bytes{0x03, 0x11, 0x22, 0x02, 0x33}));
  EXPECT_EQ(encode({0x11, 0x22, 0x33, 0x44}), (Bytes{0x05, 0x11, 0x22, 0x33, 0x44}));
  EXPECT_EQ(encode({0x11, 0x00, 0x00, 0x00}), (Bytes{0x02, 0x11, 0x01, 0x01, 0x01}));
  EXPECT_EQ(encode({}), (Bytes{0x01}));
}

TEST(FwCobs, BlockBoundariesAt254And255Bytes) {
  // 254 non-zero bytes: one full block, code 0xFF, and no empty block after it.
  EXPECT_EQ(encode(range(0x01, 0xFE)), cat({0xFF}, range(0x01, 0xFE)));
  // A leading zero, then the full block.
  EXPECT_EQ(encode(cat({0x00}, range(0x01, 0xFE))), cat({0x01, 0xFF}, range(0x01, 0xFE)));
  // 255 non-zero bytes: a full block, then a block of one.
  EXPECT_EQ(encode(range(0x01, 0xFF)), cat(cat({0xFF}, range(0x01, 0xFE)), {0x02, 0xFF}));
  // 254 non-zero then a zero: the zero opens an empty last block.
  EXPECT_EQ(encode(cat(range(0x02, 0xFF), {0x00})), cat(cat({0xFF}, range(0x02, 0xFF)), {0x01, 0x01}));
  // 253 non-zero, a zero, one more.
  EXPECT_EQ(encode(cat(cat(range(0x03, 0xFF), {0x00}), {0x01})), cat(cat({0xFE}, range(0x03, 0xFF)), {0x02, 0x01}));
  for (const Bytes& in : {range(0x01, 0xFE), range(0x01, 0xFF), cat(range(0x02, 0xFF), {0x00}),
                          cat({0x00}, range(0x01, 0xFE))}) {
    bool ok = false;
    EXPECT_EQ(decode(encode(in), &ok), in);
    EXPECT_TRUE(ok);
  }
}

TEST(FwCobs, WorstCaseSizeIsReachedAndNeverExceeded) {
  EXPECT_EQ(cobs_max_encoded_size(0), 1u);
  EXPECT_EQ(cobs_max_encoded_size(1), 2u);
  EXPECT_EQ(cobs_max_encoded_size(254), 255u);
  EXPECT_EQ(cobs_max_encoded_size(255), 257u);
  EXPECT_EQ(cobs_max_encoded_size(67), 68u);  // the largest bridge frame body
  for (size_t n : {size_t{1}, size_t{253}, size_t{254}, size_t{255}, size_t{508}, size_t{509}, size_t{1000}}) {
    const Bytes no_zeros(n, 0x5A);
    EXPECT_EQ(encode(no_zeros).size(), cobs_max_encoded_size(n)) << n;  // the worst case
    const Bytes all_zeros(n, 0x00);
    EXPECT_EQ(encode(all_zeros).size(), n + 1) << n;  // every zero becomes a code byte
  }
  // One byte short of the worst case is refused, not overrun.
  Bytes in(300, 0x77);
  Bytes out(cobs_max_encoded_size(in.size()) - 1, 0xEE);
  EXPECT_EQ(cobs_encode(in.data(), in.size(), out.data(), out.size()), 0u);
}

TEST(FwCobs, RoundTripsEveryLengthWithRunsOfZeros) {
  std::mt19937 rng(5);
  for (size_t n = 0; n <= 1000; ++n) {
    for (int zero_percent : {0, 5, 50, 100}) {
      Bytes in(n);
      for (auto& b : in) b = std::uniform_int_distribution<int>(0, 99)(rng) < zero_percent ? 0 : static_cast<uint8_t>(1 + rng() % 255);
      const Bytes enc = encode(in);
      EXPECT_LE(enc.size(), cobs_max_encoded_size(n));
      for (uint8_t b : enc) ASSERT_NE(b, 0) << "n " << n;
      bool ok = false;
      ASSERT_EQ(decode(enc, &ok), in) << "n " << n << " zeros " << zero_percent << "%";
      ASSERT_TRUE(ok);
    }
  }
}

TEST(FwCobs, MatchesTheDaemonsEncoderByteForByte) {
  std::mt19937 rng(9);
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes in(rng() % 600);
    for (auto& b : in) b = rng() % 4 == 0 ? 0 : static_cast<uint8_t>(rng());
    Bytes theirs(drivers::bridge::cobs_max_encoded_size(in.size()));
    theirs.resize(drivers::bridge::cobs_encode(in.data(), in.size(), theirs.data(), theirs.size()));
    ASSERT_EQ(encode(in), theirs);
  }
}

TEST(FwCobs, RejectsMalformedInput) {
  bool ok = true;
  decode({0x05, 0x11, 0x22}, &ok);  // code promises 4 bytes, 2 follow
  EXPECT_FALSE(ok);
  decode({0x02, 0x00}, &ok);  // a zero inside
  EXPECT_FALSE(ok);
  decode({0x00}, &ok);  // a zero code byte
  EXPECT_FALSE(ok);
  // Output capacity is honoured.
  const Bytes enc = encode(Bytes(40, 0x33));
  Bytes out(39);
  EXPECT_LT(cobs_decode(enc.data(), enc.size(), out.data(), out.size()), 0);
  // Decoding in place works (the write position never passes the read position).
  Bytes buf = encode({0x11, 0x00, 0x00, 0x22, 0x00});
  const ptrdiff_t n = cobs_decode(buf.data(), buf.size(), buf.data(), buf.size());
  ASSERT_EQ(n, 5);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + 5), (Bytes{0x11, 0x00, 0x00, 0x22, 0x00}));
}

}  // namespace
}  // namespace opsync::fw
