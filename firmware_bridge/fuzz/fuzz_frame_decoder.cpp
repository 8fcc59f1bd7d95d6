// libFuzzer target: the firmware's streaming frame decoder (core/frame.h) against the daemon's
// block decoder (daemon/drivers/bridge/frame.h) on the same byte stream, one frame (the bytes
// between two delimiters) at a time:
//  - a frame of at most cobs_max_encoded_size(67) bytes fits the firmware's buffer: both must
//    give the same verdict, and the same payload when it is ok;
//  - a longer one must be an overflow for the firmware (reported once), whatever the daemon says;
//  - an accepted payload re-encodes (frame_encode) to exactly the bytes received: COBS is
//    canonical below 254-byte blocks, so the firmware accepts no alternative spelling.
// Any mismatch aborts, which libFuzzer reports as a crash with the input that caused it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/frame.h"
#include "drivers/bridge/frame.h"

namespace {

using opsync::fw::FrameDecoder;
using opsync::fw::FrameResult;
using opsync::fw::FrameStatus;

[[noreturn]] void fail(const char* what, size_t at) {
  std::fprintf(stderr, "fuzz_frame_decoder: %s (frame ending at byte %zu)\n", what, at);
  std::abort();
}

FrameStatus from_daemon(opsync::drivers::bridge::FrameStatus s) {
  switch (s) {
    case opsync::drivers::bridge::FrameStatus::ok: return FrameStatus::ok;
    case opsync::drivers::bridge::FrameStatus::crc_error: return FrameStatus::crc_error;
    case opsync::drivers::bridge::FrameStatus::cobs_error: return FrameStatus::cobs_error;
    case opsync::drivers::bridge::FrameStatus::too_short: return FrameStatus::too_short;
    case opsync::drivers::bridge::FrameStatus::overflow: return FrameStatus::overflow;
  }
  return FrameStatus::overflow;
}

constexpr size_t kFitsFirmware = opsync::fw::cobs_max_encoded_size(opsync::fw::kMaxPayloadBytes + opsync::fw::kCrcBytes);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FrameDecoder ours;
  opsync::drivers::bridge::FrameDecoder theirs;
  size_t frame_start = 0;
  int ours_results = 0, theirs_results = 0;
  FrameResult ours_last;
  opsync::drivers::bridge::FrameResult theirs_last;
  uint8_t ours_payload[opsync::fw::kMaxPayloadBytes];
  size_t ours_payload_size = 0;

  for (size_t i = 0; i < size; ++i) {
    FrameResult r;
    if (ours.push(data[i], &r)) {
      ++ours_results;
      ours_last = r;
      if (r.status == FrameStatus::ok) {
        if (r.size > sizeof ours_payload) fail("payload larger than the firmware's bound", i);
        std::memcpy(ours_payload, r.payload, r.size);
        ours_payload_size = r.size;
      }
    }
    opsync::drivers::bridge::FrameResult t;
    if (theirs.push(data[i], t)) {
      ++theirs_results;
      theirs_last = t;
    }
    if (data[i] != 0x00) continue;

    // A delimiter: compare the verdicts on the frame data[frame_start, i).
    const size_t length = i - frame_start;
    if (length == 0) {
      if (ours_results != 0 || theirs_results != 0) fail("an empty frame produced a result", i);
    } else if (length <= kFitsFirmware) {
      if (ours_results != 1 || theirs_results != 1) fail("not exactly one result each", i);
      if (ours_last.status != from_daemon(theirs_last.status)) fail("different verdicts", i);
      if (ours_last.status == FrameStatus::ok) {
        if (ours_payload_size != theirs_last.payload.size() ||
            std::memcmp(ours_payload, theirs_last.payload.data(), ours_payload_size) != 0) {
          fail("different payloads", i);
        }
        uint8_t again[opsync::fw::kMaxFrameBytes];
        const size_t n = opsync::fw::frame_encode(ours_payload, ours_payload_size, again, sizeof again);
        if (n != length + 1 || std::memcmp(again, data + frame_start, length + 1) != 0) {
          fail("an accepted frame does not re-encode to its own bytes", i);
        }
      }
    } else {
      if (ours_results != 1 || ours_last.status != FrameStatus::overflow) fail("a long frame did not overflow", i);
    }
    ours_results = 0;
    theirs_results = 0;
    frame_start = i + 1;
  }
  return 0;
}
