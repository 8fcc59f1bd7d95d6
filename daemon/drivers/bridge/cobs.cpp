// COBS encoder/decoder; see cobs.h.
#include "drivers/bridge/cobs.h"

namespace opsync::drivers::bridge {

size_t cobs_encode(const uint8_t* in, size_t n, uint8_t* out, size_t out_capacity) {
  if (out_capacity < cobs_max_encoded_size(n)) return 0;
  size_t code_pos = 0;  // where the current block's code byte goes
  size_t write = 1;
  uint8_t code = 1;     // block length + 1 so far
  for (size_t i = 0; i < n; ++i) {
    if (in[i] == 0) {
      out[code_pos] = code;
      code_pos = write++;
      code = 1;
      continue;
    }
    out[write++] = in[i];
    if (++code == 0xFF) {
      // 254 non-zero bytes: close the block without an implied zero. Open a new block only if
      // input follows, so an input ending on a full block gets no trailing code byte.
      out[code_pos] = code;
      if (i + 1 < n) {
        code_pos = write++;
        code = 1;
      } else {
        return write;
      }
    }
  }
  out[code_pos] = code;
  return write;
}

CobsDecodeResult cobs_decode(const uint8_t* in, size_t n, uint8_t* out, size_t out_capacity) {
  CobsDecodeResult r;
  size_t read = 0;
  size_t write = 0;
  while (read < n) {
    const uint8_t code = in[read++];
    if (code == 0) {
      r.status = CobsStatus::zero_byte;
      return r;
    }
    const size_t run = static_cast<size_t>(code - 1);
    if (run > n - read) {
      r.status = CobsStatus::truncated;
      return r;
    }
    const bool implied_zero = code != 0xFF && read + run < n;
    if (write + run + (implied_zero ? 1 : 0) > out_capacity) {
      r.status = CobsStatus::output_too_small;
      return r;
    }
    for (size_t k = 0; k < run; ++k) {
      if (in[read] == 0) {
        r.status = CobsStatus::zero_byte;
        return r;
      }
      out[write++] = in[read++];
    }
    if (implied_zero) out[write++] = 0;
  }
  r.size = write;
  return r;
}

}  // namespace opsync::drivers::bridge
