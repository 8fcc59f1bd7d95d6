// Bridge envelopes to and from bytes: protobuf (libprotobuf on the host, nanopb on the MCU) inside
// the COBS + CRC-32C frames of frame.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "drivers/bridge/bridge_messages.h"

namespace opsync::drivers::bridge {

inline constexpr uint32_t kProtocolVersion = PROTOCOL_VERSION_CURRENT;
inline constexpr uint32_t kInputCount = 4;

std::vector<uint8_t> encode_envelope(const Envelope& envelope);
// Nothing on bytes that are not an Envelope (never throws).
std::optional<Envelope> decode_envelope(std::span<const uint8_t> payload);
// encode_envelope, framed for the wire.
std::vector<uint8_t> encode_envelope_frame(const Envelope& envelope);

}  // namespace opsync::drivers::bridge
