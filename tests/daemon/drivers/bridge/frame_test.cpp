// Frames: the three worked frames of shared/protocols/framing-and-sync.md section 2 byte for byte,
// and the streaming FrameDecoder on split reads, garbage, bad CRCs, overflow and empty frames.
#include "drivers/bridge/frame.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "drivers/bridge/cobs.h"
#include "drivers/bridge/crc.h"

namespace opsync::drivers::bridge {
namespace {

using Bytes = std::vector<uint8_t>;

struct Collected {
  std::vector<Bytes> payloads;
  std::vector<FrameStatus> errors;
};

Collected feed(FrameDecoder& d, const Bytes& bytes) {
  Collected c;
  FrameResult r;
  for (uint8_t b : bytes) {
    if (!d.push(b, r)) continue;
    if (r.status == FrameStatus::ok) {
      c.payloads.emplace_back(r.payload.begin(), r.payload.end());
    } else {
      c.errors.push_back(r.status);
    }
  }
  return c;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(Frame, WorkedFrameCrc32cOneField) {
  const Bytes payload = {0x08, 0x96, 0x01};
  EXPECT_EQ(crc32c(payload.data(), payload.size()), 0x079744F6u);
  EXPECT_EQ(encode_frame(payload), (Bytes{0x08, 0x08, 0x96, 0x01, 0xF6, 0x44, 0x97, 0x07, 0x00}));
}

TEST(Frame, WorkedFrameCrc32cTwoFields) {
  const Bytes payload = {0x08, 0x00, 0x10, 0x05};
  EXPECT_EQ(crc32c(payload.data(), payload.size()), 0xB417CDBCu);
  EXPECT_EQ(encode_frame(payload), (Bytes{0x02, 0x08, 0x07, 0x10, 0x05, 0xBC, 0xCD, 0x17, 0xB4, 0x00}));
}

TEST(Frame, WorkedFrameCrc16) {
  // The CRC-16 variant is not what the bridge sends, but its worked frame pins the CRC-16 and
  // the COBS + delimiter step.
  Bytes body = {0x08, 0x00, 0x10, 0x05};
  const uint16_t crc = crc16_ccitt_false(body.data(), body.size());
  EXPECT_EQ(crc, 0x52D5);
  body.push_back(static_cast<uint8_t>(crc >> 8));
  body.push_back(static_cast<uint8_t>(crc));
  Bytes out;
  append_cobs_frame(body, out);
  EXPECT_EQ(out, (Bytes{0x02, 0x08, 0x05, 0x10, 0x05, 0x52, 0xD5, 0x00}));
}

TEST(FrameDecoder, DecodesTheWorkedFrames) {
  FrameDecoder d;
  const Collected c = feed(d, cat({{0x08, 0x08, 0x96, 0x01, 0xF6, 0x44, 0x97, 0x07, 0x00},
                                   {0x02, 0x08, 0x07, 0x10, 0x05, 0xBC, 0xCD, 0x17, 0xB4, 0x00}}));
  ASSERT_EQ(c.payloads.size(), 2u);
  EXPECT_EQ(c.payloads[0], (Bytes{0x08, 0x96, 0x01}));
  EXPECT_EQ(c.payloads[1], (Bytes{0x08, 0x00, 0x10, 0x05}));
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(d.stats().frames_ok, 2u);
}

TEST(FrameDecoder, SplitReadsByteByByte) {
  const Bytes payload = {0x00, 0x01, 0x00, 0xFF, 0x00};
  const Bytes frame = encode_frame(payload);
  FrameDecoder d;
  size_t completed = 0;
  for (size_t i = 0; i < frame.size(); ++i) {
    const Collected c = feed(d, Bytes{frame[i]});
    completed += c.payloads.size();
    if (i + 1 < frame.size()) {
      EXPECT_EQ(completed, 0u) << "completed early at byte " << i;
    } else {
      ASSERT_EQ(c.payloads.size(), 1u);
      EXPECT_EQ(c.payloads[0], payload);
    }
  }
}

TEST(FrameDecoder, BackToBackAndEmptyFrames) {
  const Bytes a = {0x01}, b = {0x02, 0x03}, empty_payload = {};
  FrameDecoder d;
  const Collected c =
      feed(d, cat({{0x00, 0x00}, encode_frame(a), {0x00}, encode_frame(b), encode_frame(empty_payload), {0x00}}));
  ASSERT_EQ(c.payloads.size(), 3u);
  EXPECT_EQ(c.payloads[0], a);
  EXPECT_EQ(c.payloads[1], b);
  EXPECT_TRUE(c.payloads[2].empty());  // a frame of only a CRC carries an empty payload
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(d.stats().empty_frames, 4u);
}

TEST(FrameDecoder, GarbageIsCountedAndTheNextFrameSurvives) {
  const Bytes good = {0x08, 0x96, 0x01};
  FrameDecoder d;
  // 0x11 claims 16 bytes that are not there; the delimiter then resynchronises.
  const Collected c = feed(d, cat({{0x11, 0x22, 0x33, 0x00}, encode_frame(good)}));
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], FrameStatus::cobs_error);
  ASSERT_EQ(c.payloads.size(), 1u);
  EXPECT_EQ(c.payloads[0], good);
  EXPECT_EQ(d.stats().cobs_errors, 1u);
}

TEST(FrameDecoder, UndelimitedGarbageCostsOnlyTheFrameItRunsInto) {
  const Bytes first = {0x01, 0x02}, second = {0x03, 0x04};
  FrameDecoder d;
  const Collected c = feed(d, cat({{0x05, 0x06, 0x07}, encode_frame(first), encode_frame(second)}));
  ASSERT_EQ(c.errors.size(), 1u);
  ASSERT_EQ(c.payloads.size(), 1u);
  EXPECT_EQ(c.payloads[0], second);
}

TEST(FrameDecoder, BadCrcIsRejected) {
  const Bytes payload = {0x08, 0x96, 0x01};
  Bytes body = payload;
  const uint32_t crc = crc32c(payload.data(), payload.size()) ^ 0x00010000u;  // one flipped bit
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  Bytes wire;
  append_cobs_frame(body, wire);
  Bytes flipped_payload = encode_frame(payload);
  flipped_payload[2] ^= 0x04;  // corrupt a payload byte on the wire instead
  FrameDecoder d;
  const Collected c = feed(d, cat({wire, flipped_payload, encode_frame(payload)}));
  ASSERT_EQ(c.errors.size(), 2u);
  EXPECT_EQ(c.errors[0], FrameStatus::crc_error);
  EXPECT_EQ(c.errors[1], FrameStatus::crc_error);
  ASSERT_EQ(c.payloads.size(), 1u);
  EXPECT_EQ(d.stats().crc_errors, 2u);
}

TEST(FrameDecoder, TooShortFrame) {
  FrameDecoder d;
  const Collected c = feed(d, Bytes{0x03, 0xAA, 0xBB, 0x00});  // decodes to 2 bytes: no room for a CRC
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], FrameStatus::too_short);
}

TEST(FrameDecoder, OverflowDropsToTheNextDelimiter) {
  const Bytes good = {0x42};
  FrameDecoder d;
  const Collected c = feed(d, cat({Bytes(kMaxEncodedFrameBytes + 300, 0x55), {0x00}, encode_frame(good)}));
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], FrameStatus::overflow);
  ASSERT_EQ(c.payloads.size(), 1u);
  EXPECT_EQ(c.payloads[0], good);
  EXPECT_EQ(d.stats().overflows, 1u);
  EXPECT_EQ(d.stats().empty_frames, 0u) << "the delimiter ending the overflow is not an empty frame";
}

TEST(FrameDecoder, LargestPayloadFitsTheCap) {
  Bytes payload(kMaxPayloadBytes, 0x7E);
  const Bytes frame = encode_frame(payload);
  EXPECT_LE(frame.size() - 1, kMaxEncodedFrameBytes);
  FrameDecoder d;
  const Collected c = feed(d, frame);
  ASSERT_EQ(c.payloads.size(), 1u);
  EXPECT_EQ(c.payloads[0], payload);
  Bytes too_big(kMaxPayloadBytes + 1, 0x7E);
  Bytes out;
  EXPECT_FALSE(append_frame(too_big, out));
  EXPECT_TRUE(out.empty());
}

TEST(FrameDecoder, ResetForgetsAPartialFrame) {
  const Bytes good = {0x01, 0x02};
  const Bytes frame = encode_frame(good);
  FrameDecoder d;
  feed(d, Bytes(frame.begin(), frame.begin() + 3));
  d.reset();
  const Collected c = feed(d, frame);
  ASSERT_EQ(c.payloads.size(), 1u);
  EXPECT_TRUE(c.errors.empty());
}

}  // namespace
}  // namespace opsync::drivers::bridge
