// Frame encoding and the streaming frame decoder; see frame.h.
#include "drivers/bridge/frame.h"

#include <algorithm>

#include "drivers/bridge/cobs.h"
#include "drivers/bridge/crc.h"

namespace opsync::drivers::bridge {

void append_cobs_frame(std::span<const uint8_t> body, std::vector<uint8_t>& out) {
  const size_t start = out.size();
  out.resize(start + cobs_max_encoded_size(body.size()));
  const size_t n = cobs_encode(body.data(), body.size(), out.data() + start, out.size() - start);
  out.resize(start + n);
  out.push_back(0x00);
}

bool append_frame(std::span<const uint8_t> payload, std::vector<uint8_t>& out) {
  if (payload.size() > kMaxPayloadBytes) return false;
  std::array<uint8_t, kMaxPayloadBytes + kCrcBytes> body{};
  std::copy(payload.begin(), payload.end(), body.begin());
  const uint32_t crc = crc32c(payload.data(), payload.size());
  for (size_t i = 0; i < kCrcBytes; ++i) body[payload.size() + i] = static_cast<uint8_t>(crc >> (8 * i));
  append_cobs_frame(std::span<const uint8_t>(body.data(), payload.size() + kCrcBytes), out);
  return true;
}

std::vector<uint8_t> encode_frame(std::span<const uint8_t> payload) {
  std::vector<uint8_t> out;
  append_frame(payload, out);
  return out;
}

void FrameDecoder::reset() {
  size_ = 0;
  discarding_ = false;
}

bool FrameDecoder::push(uint8_t byte, FrameResult& result) {
  if (byte != 0x00) {
    if (discarding_) return false;
    if (size_ == encoded_.size()) {
      ++stats_.overflows;
      discarding_ = true;
      size_ = 0;
      result = FrameResult{FrameStatus::overflow, {}};
      return true;
    }
    encoded_[size_++] = byte;
    return false;
  }

  // Delimiter.
  if (discarding_) {
    discarding_ = false;
    return false;
  }
  if (size_ == 0) {
    ++stats_.empty_frames;
    return false;
  }
  const size_t n = size_;
  size_ = 0;
  const CobsDecodeResult d = cobs_decode(encoded_.data(), n, decoded_.data(), decoded_.size());
  if (d.status != CobsStatus::ok) {
    ++stats_.cobs_errors;
    result = FrameResult{FrameStatus::cobs_error, {}};
    return true;
  }
  if (d.size < kCrcBytes) {
    ++stats_.too_short;
    result = FrameResult{FrameStatus::too_short, {}};
    return true;
  }
  if (crc32c(decoded_.data(), d.size) != kCrc32cGoodResidue) {
    ++stats_.crc_errors;
    result = FrameResult{FrameStatus::crc_error, {}};
    return true;
  }
  ++stats_.frames_ok;
  result = FrameResult{FrameStatus::ok, std::span<const uint8_t>(decoded_.data(), d.size - kCrcBytes)};
  return true;
}

}  // namespace opsync::drivers::bridge
