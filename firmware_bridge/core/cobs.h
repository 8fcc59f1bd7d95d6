// Consistent Overhead Byte Stuffing for the bridge firmware (Cheshire & Baker 1999; the rules and
// worked examples are in shared/protocols/framing-and-sync.md section 1). Pointer + size, no
// allocation: the encoder fills a caller's buffer, and frame.h decodes while bytes arrive.
#pragma once

#include <cstddef>
#include <cstdint>

namespace opsync::fw {

// Largest encoding of n bytes: one code byte per started block of 254 (one for n == 0).
constexpr size_t cobs_max_encoded_size(size_t n) { return n == 0 ? 1 : n + (n + 253) / 254; }

// Writes the encoding of in[0..n) to out, without the 0x00 delimiter. Returns its size, or 0
// if out_capacity < cobs_max_encoded_size(n) (a valid encoding is never empty).
size_t cobs_encode(const uint8_t* in, size_t n, uint8_t* out, size_t out_capacity);

// Decodes in[0..n) (no delimiter) into out. Returns the decoded size, or -1 if the data is not
// a COBS encoding (a 0x00 inside, a code byte pointing past the end) or does not fit.
// out may be in (decoding in place never overtakes the read position).
ptrdiff_t cobs_decode(const uint8_t* in, size_t n, uint8_t* out, size_t out_capacity);

}  // namespace opsync::fw
