// The core's one contact with the nanopb runtime: an Envelope (nanopb's struct generated from
// proto/bridge.proto + bridge.options) to bytes and back. Everything else in the core uses the
// generated structs only, which need no runtime; so a build that cannot link Debian's host
// libprotobuf-nanopb.a (the Cortex-M one) supplies pb_encode.c/pb_decode.c/pb_common.c for this
// file alone.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bridge.nanopb.h"

namespace opsync::fw {

using Envelope = opsync_bridge_Envelope;

// Writes the encoding of envelope to out. False if it does not fit (it always fits in
// kMaxPayloadBytes, frame.h) or holds a value nanopb refuses.
bool envelope_encode(const Envelope& envelope, uint8_t* out, size_t out_capacity, size_t* written);
// False on bytes that are not an Envelope within the bounds of bridge.options; *envelope is
// then unspecified. An envelope with no body decodes (which_body == 0).
bool envelope_decode(const uint8_t* in, size_t n, Envelope* envelope);

}  // namespace opsync::fw
