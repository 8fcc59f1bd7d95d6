// nanopb encode/decode of an Envelope; see envelope_codec.h.
#include "envelope_codec.h"

#include <pb_decode.h>
#include <pb_encode.h>

#include "frame.h"

namespace opsync::fw {

// The frame buffers are sized for the largest Envelope; bridge.options pins it (63 bytes).
static_assert(opsync_bridge_Envelope_size == kMaxPayloadBytes,
              "bridge.options changed the largest Envelope: resize kMaxPayloadBytes in frame.h");

bool envelope_encode(const Envelope& envelope, uint8_t* out, size_t out_capacity, size_t* written) {
  pb_ostream_t stream = pb_ostream_from_buffer(out, out_capacity);
  if (!pb_encode(&stream, opsync_bridge_Envelope_fields, &envelope)) return false;
  *written = stream.bytes_written;
  return true;
}

bool envelope_decode(const uint8_t* in, size_t n, Envelope* envelope) {
  pb_istream_t stream = pb_istream_from_buffer(in, n);
  return pb_decode(&stream, opsync_bridge_Envelope_fields, envelope);
}

}  // namespace opsync::fw
