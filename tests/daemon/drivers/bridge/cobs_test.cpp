// COBS against the table in shared/protocols/framing-and-sync.md section 1, round trips of random
// data, and the decoder's rejection of malformed input.
#include "drivers/bridge/cobs.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace opsync::drivers::bridge {
namespace {

using Bytes = std::vector<uint8_t>;

// Bytes a, a+1, ..., b (inclusive).
Bytes run(int a, int b) {
  Bytes out;
  for (int v = a; v <= b; ++v) out.push_back(static_cast<uint8_t>(v));
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes encode(const Bytes& in) {
  Bytes out(cobs_max_encoded_size(in.size()));
  const size_t n = cobs_encode(in.data(), in.size(), out.data(), out.size());
  out.resize(n);
  return out;
}

struct Row {
  Bytes input;
  Bytes encoded;
};

std::vector<Row> doc_table() {
  return {
      {{0x00}, {0x01, 0x01}},
      {{0x00, 0x00}, {0x01, 0x01, 0x01}},
      {{0x00, 0x11, 0x00}, {0x01, 0x02, 0x11, 0x01}},
      {{0x11, 0x22, 0x00, 0x33}, {0x03, 0x11, 0x22, 0x02, 0x33}},
      {{0x11, 0x22, 0x33, 0x44}, {0x05, 0x11, 0x22, 0x33, 0x44}},
      {{0x11, 0x00, 0x00, 0x00}, {0x02, 0x11, 0x01, 0x01, 0x01}},
      {run(0x01, 0xFE), cat({{0xFF}, run(0x01, 0xFE)})},
      {cat({{0x00}, run(0x01, 0xFE)}), cat({{0x01, 0xFF}, run(0x01, 0xFE)})},
      {run(0x01, 0xFF), cat({{0xFF}, run(0x01, 0xFE), {0x02, 0xFF}})},
      {cat({run(0x02, 0xFF), {0x00}}), cat({{0xFF}, run(0x02, 0xFF), {0x01, 0x01}})},
      {cat({run(0x03, 0xFF), {0x00, 0x01}}), cat({{0xFE}, run(0x03, 0xFF), {0x02, 0x01}})},
  };
}

TEST(Cobs, EncodesEveryRowOfTheDocTable) {
  const std::vector<Row> rows = doc_table();
  ASSERT_EQ(rows[6].input.size(), 254u);
  ASSERT_EQ(rows[7].input.size(), 255u);
  ASSERT_EQ(rows[8].input.size(), 255u);
  ASSERT_EQ(rows[9].input.size(), 255u);
  ASSERT_EQ(rows[10].input.size(), 255u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(encode(rows[i].input), rows[i].encoded) << "row " << i;
  }
}

TEST(Cobs, DecodesEveryRowOfTheDocTable) {
  for (const Row& row : doc_table()) {
    Bytes out(row.encoded.size());
    const CobsDecodeResult r = cobs_decode(row.encoded.data(), row.encoded.size(), out.data(), out.size());
    ASSERT_EQ(r.status, CobsStatus::ok);
    out.resize(r.size);
    EXPECT_EQ(out, row.input);
  }
}

TEST(Cobs, WorstCaseSizeMatchesTheDocFormula) {
  // n + ceil(n/254), and 1 for n = 0.
  EXPECT_EQ(cobs_max_encoded_size(0), 1u);
  EXPECT_EQ(cobs_max_encoded_size(1), 2u);
  EXPECT_EQ(cobs_max_encoded_size(254), 255u);
  EXPECT_EQ(cobs_max_encoded_size(255), 257u);
  EXPECT_EQ(cobs_max_encoded_size(508), 510u);
  EXPECT_EQ(cobs_max_encoded_size(509), 512u);
  EXPECT_EQ(encode({}), Bytes{0x01});
}

TEST(Cobs, RandomRoundTrips) {
  std::mt19937_64 rng(20240607);
  const double zero_probabilities[] = {0.0, 0.01, 0.3, 0.9, 1.0};
  for (double p_zero : zero_probabilities) {
    std::bernoulli_distribution is_zero(p_zero);
    std::uniform_int_distribution<int> nonzero(1, 255);
    std::uniform_int_distribution<size_t> length(0, 1200);
    for (int trial = 0; trial < 300; ++trial) {
      Bytes in(trial < 3 ? static_cast<size_t>(trial) * 254 : length(rng));
      for (uint8_t& b : in) b = is_zero(rng) ? 0 : static_cast<uint8_t>(nonzero(rng));
      const Bytes enc = encode(in);
      ASSERT_FALSE(enc.empty());
      for (uint8_t b : enc) ASSERT_NE(b, 0) << "encoded data must contain no delimiter";
      ASSERT_LE(enc.size(), cobs_max_encoded_size(in.size()));
      if (p_zero == 0.0 && !in.empty()) {
        EXPECT_EQ(enc.size(), cobs_max_encoded_size(in.size())) << "no zeros is the worst case";
      }
      if (!in.empty()) {
        EXPECT_GE(enc.size(), in.size() + 1);
      }
      Bytes out(enc.size());
      const CobsDecodeResult r = cobs_decode(enc.data(), enc.size(), out.data(), out.size());
      ASSERT_EQ(r.status, CobsStatus::ok);
      out.resize(r.size);
      ASSERT_EQ(out, in) << "length " << in.size() << " p_zero " << p_zero;
    }
  }
}

TEST(Cobs, DecodesInPlace) {
  const Bytes in = {0x11, 0x00, 0x00, 0x22, 0x33, 0x00};
  Bytes buf = encode(in);
  const CobsDecodeResult r = cobs_decode(buf.data(), buf.size(), buf.data(), buf.size());
  ASSERT_EQ(r.status, CobsStatus::ok);
  buf.resize(r.size);
  EXPECT_EQ(buf, in);
}

TEST(Cobs, RejectsMalformedInput) {
  Bytes out(16);
  const Bytes past_end = {0x05, 0x11, 0x22};  // code promises 4 bytes, 2 follow
  EXPECT_EQ(cobs_decode(past_end.data(), past_end.size(), out.data(), out.size()).status, CobsStatus::truncated);
  const Bytes zero_code = {0x02, 0x11, 0x00, 0x22};
  EXPECT_EQ(cobs_decode(zero_code.data(), zero_code.size(), out.data(), out.size()).status, CobsStatus::zero_byte);
  const Bytes zero_in_run = {0x03, 0x00, 0x11};
  EXPECT_EQ(cobs_decode(zero_in_run.data(), zero_in_run.size(), out.data(), out.size()).status,
            CobsStatus::zero_byte);
  const Bytes ok = {0x03, 0x11, 0x22, 0x02, 0x33};
  EXPECT_EQ(cobs_decode(ok.data(), ok.size(), out.data(), 3).status, CobsStatus::output_too_small);
}

TEST(Cobs, EncodeRefusesTooSmallOutput) {
  const Bytes in = run(0x01, 0x10);
  Bytes out(in.size());  // one short of the worst case
  EXPECT_EQ(cobs_encode(in.data(), in.size(), out.data(), out.size()), 0u);
}

}  // namespace
}  // namespace opsync::drivers::bridge
