// Frame encoder and streaming decoder; see frame.h.
#include "frame.h"

#include "crc32c.h"

namespace opsync::fw {

size_t frame_encode(const uint8_t* payload, size_t n, uint8_t* out, size_t out_capacity) {
  if (n > kMaxPayloadBytes) return 0;
  uint8_t body[kMaxPayloadBytes + kCrcBytes];
  for (size_t i = 0; i < n; ++i) body[i] = payload[i];
  const uint32_t crc = crc32c(payload, n);
  for (size_t i = 0; i < kCrcBytes; ++i) body[n + i] = static_cast<uint8_t>(crc >> (8 * i));
  if (out_capacity < 1) return 0;
  const size_t encoded = cobs_encode(body, n + kCrcBytes, out, out_capacity - 1);
  if (encoded == 0) return 0;
  out[encoded] = 0x00;
  return encoded + 1;
}

void FrameDecoder::reset() {
  size_ = 0;
  code_ = 0;
  remaining_ = 0;
  started_ = false;
  discarding_ = false;
}

bool FrameDecoder::append(uint8_t byte) {
  if (size_ == sizeof buf_) return false;
  buf_[size_++] = byte;
  return true;
}

bool FrameDecoder::overflow(FrameResult* result) {
  ++stats_.overflows;
  reset();
  discarding_ = true;
  *result = FrameResult{FrameStatus::overflow, nullptr, 0};
  return true;
}

FrameResult FrameDecoder::finish() {
  if (remaining_ != 0) {
    ++stats_.cobs_errors;
    return FrameResult{FrameStatus::cobs_error, nullptr, 0};
  }
  if (size_ < kCrcBytes) {
    ++stats_.too_short;
    return FrameResult{FrameStatus::too_short, nullptr, 0};
  }
  if (crc32c(buf_, size_) != kCrc32cResidue) {
    ++stats_.crc_errors;
    return FrameResult{FrameStatus::crc_error, nullptr, 0};
  }
  ++stats_.frames_ok;
  return FrameResult{FrameStatus::ok, buf_, size_ - kCrcBytes};
}

bool FrameDecoder::push(uint8_t byte, FrameResult* result) {
  if (byte == 0x00) {
    if (discarding_) {
      discarding_ = false;  // the overflow was reported when it happened
      return false;
    }
    if (!started_) {
      ++stats_.empty_frames;
      return false;
    }
    *result = finish();
    reset();
    return true;
  }
  if (discarding_) return false;
  if (remaining_ == 0) {
    // A code byte. The block before it ends with an implied zero unless it was a full one.
    if (started_ && code_ != 0xFF && !append(0)) return overflow(result);
    code_ = byte;
    remaining_ = static_cast<uint8_t>(byte - 1);
    started_ = true;
    return false;
  }
  if (!append(byte)) return overflow(result);
  --remaining_;
  return false;
}

}  // namespace opsync::fw
