// For the bridge tests: the shared DriverHost double under its old name, and a helper that
// splits captured bytes back into envelopes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/bridge/bridge_messages.h"
#include "drivers/bridge/bridge_codec.h"
#include "drivers/bridge/frame.h"
#include "drivers/driver.h"
#include "support/recording_host.h"

namespace opsync::drivers::bridge::testing {

// The shared test double (tests/support/recording_host.h).
using FakeHost = opsync::test::RecordingHost;

// Every intact frame in bytes, decoded; frames that fail are counted in *bad (if given).
inline std::vector<Envelope> decode_frames(std::span<const uint8_t> bytes, size_t* bad = nullptr) {
  std::vector<Envelope> out;
  FrameDecoder decoder;
  FrameResult r;
  for (uint8_t b : bytes) {
    if (!decoder.push(b, r)) continue;
    std::optional<Envelope> e = r.status == FrameStatus::ok ? decode_envelope(r.payload) : std::nullopt;
    if (e) {
      out.push_back(*e);
    } else if (bad != nullptr) {
      ++*bad;
    }
  }
  return out;
}

}  // namespace opsync::drivers::bridge::testing
