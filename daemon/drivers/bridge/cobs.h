// Consistent Overhead Byte Stuffing (Cheshire & Baker 1999): removes every 0x00 from a frame so
// that 0x00 can delimit frames on the serial link. Plain pointer + size interface, no allocation
// and no exceptions, so the same algorithm carries over to the bridge firmware as it is.
#pragma once

#include <cstddef>
#include <cstdint>

namespace opsync::drivers::bridge {

// Largest encoding of n bytes: one code byte per started 254-byte run (and one for n == 0).
constexpr size_t cobs_max_encoded_size(size_t n) { return n == 0 ? 1 : n + (n + 253) / 254; }

// Writes the encoding of in[0..n) to out (no 0x00 delimiter). Returns the encoded size, or 0 if
// out_capacity is too small (a valid encoding is never empty).
size_t cobs_encode(const uint8_t* in, size_t n, uint8_t* out, size_t out_capacity);

enum class CobsStatus {
  ok,
  zero_byte,        // a 0x00 inside the encoded data (the caller should have split there)
  truncated,        // a code byte points past the end of the data
  output_too_small,
};

struct CobsDecodeResult {
  CobsStatus status = CobsStatus::ok;
  size_t size = 0;  // decoded bytes written (valid when status == ok)
};

// Decodes in[0..n) (without the delimiter) into out. The output never exceeds n bytes and may
// alias the input (decoding in place is safe: the write position never passes the read position).
CobsDecodeResult cobs_decode(const uint8_t* in, size_t n, uint8_t* out, size_t out_capacity);

}  // namespace opsync::drivers::bridge
