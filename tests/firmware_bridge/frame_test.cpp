// Firmware framing against the daemon's: identical frames for the same payload, each side
// decodes the other's, the worked frame of the framing note, and the streaming decoder's
// handling of corrupt, short, oversized and split input.
#include "core/frame.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "drivers/bridge/frame.h"

namespace opsync::fw {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes fw_frame(const Bytes& payload) {
  Bytes out(kMaxFrameBytes);
  out.resize(frame_encode(payload.data(), payload.size(), out.data(), out.size()));
  return out;
}

struct Decoded {
  std::vector<FrameStatus> status;
  std::vector<Bytes> payloads;  // of the ok frames
};

Decoded fw_decode(FrameDecoder& d, const Bytes& stream) {
  Decoded out;
  FrameResult r;
  for (uint8_t b : stream) {
    if (!d.push(b, &r)) continue;
    out.status.push_back(r.status);
    if (r.status == FrameStatus::ok) out.payloads.emplace_back(r.payload, r.payload + r.size);
  }
  return out;
}

TEST(FwFrame, WorkedFrameOfTheFramingNote) {
  // payload 08 96 01 + CRC-32C 0x079744F6 LE -> COBS 08 08 96 01 f6 44 97 07, then 00
  EXPECT_EQ(fw_frame({0x08, 0x96, 0x01}), (Bytes{0x08, 0x08, 0x96, 0x01, 0xF6, 0x44, 0x97, 0x07, 0x00}));
  // payload 08 00 10 05 + CRC 0xB417CDBC LE -> 02 08 07 10 05 bc cd 17 b4, then 00
  EXPECT_EQ(fw_frame({0x08, 0x00, 0x10, 0x05}), (Bytes{0x02, 0x08, 0x07, 0x10, 0x05, 0xBC, 0xCD, 0x17, 0xB4, 0x00}));
}

TEST(FwFrame, SameBytesAsTheDaemonAndEachDecodesTheOther) {
  std::mt19937 rng(17);
  for (int iter = 0; iter < 2000; ++iter) {
    Bytes payload(rng() % (kMaxPayloadBytes + 1));
    for (auto& b : payload) b = rng() % 3 == 0 ? 0 : static_cast<uint8_t>(rng());
    const Bytes ours = fw_frame(payload);
    ASSERT_EQ(ours, drivers::bridge::encode_frame(payload));
    ASSERT_LE(ours.size(), kMaxFrameBytes);

    FrameDecoder d;
    const Decoded dec = fw_decode(d, ours);
    ASSERT_EQ(dec.payloads.size(), 1u);
    EXPECT_EQ(dec.payloads[0], payload);

    drivers::bridge::FrameDecoder theirs;
    drivers::bridge::FrameResult r;
    bool got = false;
    for (uint8_t b : ours) got = theirs.push(b, r) || got;
    ASSERT_TRUE(got);
    ASSERT_EQ(r.status, drivers::bridge::FrameStatus::ok);
    EXPECT_EQ(Bytes(r.payload.begin(), r.payload.end()), payload);
  }
}

TEST(FwFrame, LargestFrameIs75BytesAndLongerPayloadsAreRefused) {
  EXPECT_EQ(kMaxFrameBytes, 75u);
  const Bytes max_payload(kMaxPayloadBytes, 0xA5);
  EXPECT_EQ(fw_frame(max_payload).size(), 75u);
  const Bytes too_long(kMaxPayloadBytes + 1, 0xA5);
  Bytes out(200);
  EXPECT_EQ(frame_encode(too_long.data(), too_long.size(), out.data(), out.size()), 0u);
  Bytes small(10);
  EXPECT_EQ(frame_encode(max_payload.data(), max_payload.size(), small.data(), small.size()), 0u);
}

TEST(FwFrame, CorruptShortAndTruncatedFramesAreCountedAndTheNextFrameIsFine) {
  const Bytes good = fw_frame({0x1A, 0x00});
  Bytes bad_crc = good;
  bad_crc[1] ^= 0x01;  // a data byte (byte 2 is a code byte: that would be a COBS error)
  const Bytes too_short{0x03, 0x11, 0x22, 0x00};   // decodes to 2 bytes, less than a CRC
  const Bytes truncated{0x09, 0x11, 0x22, 0x00};   // code promises 8 bytes
  Bytes stream;
  for (const Bytes* part : std::vector<const Bytes*>{&bad_crc, &good, &too_short, &good, &truncated, &good}) {
    stream.insert(stream.end(), part->begin(), part->end());
  }
  stream.push_back(0x00);  // an empty frame: resynchronisation only
  FrameDecoder d;
  const Decoded dec = fw_decode(d, stream);
  EXPECT_EQ(dec.status, (std::vector<FrameStatus>{FrameStatus::crc_error, FrameStatus::ok, FrameStatus::too_short,
                                                  FrameStatus::ok, FrameStatus::cobs_error, FrameStatus::ok}));
  EXPECT_EQ(d.stats().frames_ok, 3u);
  EXPECT_EQ(d.stats().crc_errors, 1u);
  EXPECT_EQ(d.stats().too_short, 1u);
  EXPECT_EQ(d.stats().cobs_errors, 1u);
  EXPECT_EQ(d.stats().empty_frames, 1u);
}

TEST(FwFrame, OversizedInputOverflowsOnceThenResynchronises) {
  Bytes stream(500, 0x42);  // no delimiter for 500 bytes
  stream.push_back(0x00);
  const Bytes good = fw_frame({0x32, 0x00});
  stream.insert(stream.end(), good.begin(), good.end());
  FrameDecoder d;
  const Decoded dec = fw_decode(d, stream);
  EXPECT_EQ(dec.status, (std::vector<FrameStatus>{FrameStatus::overflow, FrameStatus::ok}));
  EXPECT_EQ(d.stats().overflows, 1u);
  ASSERT_EQ(dec.payloads.size(), 1u);
  EXPECT_EQ(dec.payloads[0], (Bytes{0x32, 0x00}));
}

TEST(FwFrame, FramesSplitAnywhereAndGarbageBetweenThem) {
  std::mt19937 rng(23);
  std::vector<Bytes> sent;
  Bytes stream;
  for (int i = 0; i < 300; ++i) {
    Bytes p(rng() % 40);
    for (auto& b : p) b = static_cast<uint8_t>(rng());
    sent.push_back(p);
    const Bytes f = fw_frame(p);
    stream.insert(stream.end(), f.begin(), f.end());
    if (i % 7 == 0) {  // garbage closed by a delimiter; it must not swallow the next frame
      for (int k = 0; k < 10; ++k) stream.push_back(static_cast<uint8_t>(1 + rng() % 255));
      stream.push_back(0x00);
    }
  }
  // Byte by byte (the decoder keeps no state beyond the current frame).
  FrameDecoder d;
  const Decoded dec = fw_decode(d, stream);
  EXPECT_EQ(dec.payloads, sent);
  EXPECT_EQ(d.stats().frames_ok, 300u);
  EXPECT_GE(d.stats().crc_errors + d.stats().cobs_errors + d.stats().too_short, 40u);
}

}  // namespace
}  // namespace opsync::fw
