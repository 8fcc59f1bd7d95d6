// Bridge link framing on the device, byte for byte as the daemon's drivers/bridge/frame.h:
// frame = COBS(payload || CRC-32C little-endian) followed by one 0x00.
// frame_encode fills a caller's buffer; FrameDecoder undoes COBS while the bytes arrive (one
// buffer of the largest frame, no second copy) and checks the CRC at the delimiter.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cobs.h"

namespace opsync::fw {

inline constexpr size_t kCrcBytes = 4;
// The largest payload: nanopb's bound on an Envelope (bridge.options gives 69; the codec
// checks that at compile time). Longer frames can only be garbage.
inline constexpr size_t kMaxPayloadBytes = 69;
// Largest frame on the wire, delimiter included: 75 bytes.
inline constexpr size_t kMaxFrameBytes = cobs_max_encoded_size(kMaxPayloadBytes + kCrcBytes) + 1;

// Writes the frame of payload[0..n) to out. Returns its size (delimiter included), or 0 if n
// exceeds kMaxPayloadBytes or out_capacity is too small.
size_t frame_encode(const uint8_t* payload, size_t n, uint8_t* out, size_t out_capacity);

enum class FrameStatus : uint8_t {
  ok,
  crc_error,   // COBS fine, CRC residue wrong
  cobs_error,  // the last code byte points past the delimiter
  too_short,   // fewer bytes than a CRC
  overflow,    // longer than the largest frame: dropped up to the next 0x00
};

struct FrameResult {
  FrameStatus status = FrameStatus::ok;
  const uint8_t* payload = nullptr;  // CRC stripped; valid until the next push()
  size_t size = 0;
};

struct FrameStats {
  uint32_t frames_ok = 0;
  uint32_t crc_errors = 0;
  uint32_t cobs_errors = 0;
  uint32_t too_short = 0;
  uint32_t overflows = 0;
  uint32_t empty_frames = 0;  // back-to-back delimiters: resynchronisation, not an error
};

class FrameDecoder {
 public:
  // Takes one received byte. Returns true when it ended a frame or overflowed the buffer; the
  // outcome is then in *result. Any byte sequence is safe.
  bool push(uint8_t byte, FrameResult* result);
  void reset();
  const FrameStats& stats() const { return stats_; }

 private:
  bool append(uint8_t byte);
  bool overflow(FrameResult* result);
  FrameResult finish();

  uint8_t buf_[kMaxPayloadBytes + kCrcBytes] = {};
  size_t size_ = 0;        // decoded bytes so far
  uint8_t code_ = 0;       // code byte of the open block
  uint8_t remaining_ = 0;  // data bytes the open block still expects
  bool started_ = false;   // a code byte was seen in this frame
  bool discarding_ = false;
  FrameStats stats_;
};

}  // namespace opsync::fw
