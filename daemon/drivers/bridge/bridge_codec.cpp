// Envelope serialisation for the bridge link; see bridge_codec.h.
#include "drivers/bridge/bridge_codec.h"

#include "drivers/bridge/frame.h"

namespace opsync::drivers::bridge {

std::vector<uint8_t> encode_envelope(const Envelope& envelope) {
  std::vector<uint8_t> bytes(envelope.ByteSizeLong());
  if (!bytes.empty()) envelope.SerializeWithCachedSizesToArray(bytes.data());
  return bytes;
}

std::optional<Envelope> decode_envelope(std::span<const uint8_t> payload) {
  Envelope envelope;
  if (payload.size() > static_cast<size_t>(INT32_MAX)) return std::nullopt;
  if (!envelope.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  return envelope;
}

std::vector<uint8_t> encode_envelope_frame(const Envelope& envelope) {
  return encode_frame(encode_envelope(envelope));
}

}  // namespace opsync::drivers::bridge
