// Bridge link framing: frame = COBS(payload || CRC-32C little-endian) followed by one 0x00.
// Encoding is a plain function; FrameDecoder is a byte-stream state machine that finds the
// delimiters, undoes COBS, checks the CRC and counts what it had to throw away.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace opsync::drivers::bridge {

// Cap on one encoded frame (without its delimiter). Real frames are under 70 bytes
// (nanopb's Envelope_size is 69); the cap only bounds what garbage can make us hold.
inline constexpr size_t kMaxEncodedFrameBytes = 512;
inline constexpr size_t kCrcBytes = 4;
// Largest payload whose frame still fits the cap.
inline constexpr size_t kMaxPayloadBytes = 500;

// Appends COBS(body) + 0x00 to out; body is sent as is (already carrying its CRC).
void append_cobs_frame(std::span<const uint8_t> body, std::vector<uint8_t>& out);
// Appends the frame of payload (CRC-32C added). Returns false, appending nothing, if the payload
// exceeds kMaxPayloadBytes.
bool append_frame(std::span<const uint8_t> payload, std::vector<uint8_t>& out);
std::vector<uint8_t> encode_frame(std::span<const uint8_t> payload);

enum class FrameStatus {
  ok,
  crc_error,   // COBS fine, CRC-32C residue wrong
  cobs_error,  // a code byte points past the frame end
  too_short,   // decodes to fewer bytes than a CRC
  overflow,    // no delimiter within kMaxEncodedFrameBytes: bytes dropped up to the next 0x00
};

struct FrameResult {
  FrameStatus status = FrameStatus::ok;
  std::span<const uint8_t> payload;  // CRC stripped; valid until the next push()
};

struct FrameStats {
  uint64_t frames_ok = 0;
  uint64_t crc_errors = 0;
  uint64_t cobs_errors = 0;
  uint64_t too_short = 0;
  uint64_t overflows = 0;
  uint64_t empty_frames = 0;  // back-to-back delimiters: resynchronisation, not an error
};

class FrameDecoder {
 public:
  // Takes one received byte. Returns true when it completed a frame or detected an overflow;
  // the outcome is then in `result`. Never throws, whatever the bytes.
  bool push(uint8_t byte, FrameResult& result);
  // Forget a partial frame (link closed).
  void reset();
  const FrameStats& stats() const { return stats_; }

 private:
  std::array<uint8_t, kMaxEncodedFrameBytes> encoded_{};
  std::array<uint8_t, kMaxEncodedFrameBytes> decoded_{};
  size_t size_ = 0;
  bool discarding_ = false;  // after an overflow, until the next delimiter
  FrameStats stats_;
};

}  // namespace opsync::drivers::bridge
