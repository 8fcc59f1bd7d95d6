// COBS encoder and block decoder; see cobs.h.
#include "cobs.h"

namespace opsync::fw {

size_t cobs_encode(const uint8_t* in, size_t n, uint8_t* out, size_t out_capacity) {
  if (out_capacity < cobs_max_encoded_size(n)) return 0;
  size_t code_at = 0;  // where the open block's code byte goes, filled when the block closes
  size_t w = 1;
  uint8_t code = 1;  // bytes in the open block + 1
  for (size_t i = 0; i < n; ++i) {
    if (in[i] != 0) {
      out[w++] = in[i];
      ++code;
    }
    // A zero closes the block (the zero is implied by a code < 0xFF); so do 254 data bytes,
    // without an implied zero, and a new block opens only if input remains so that an input
    // ending on a full block gets no empty trailing block.
    if (in[i] == 0 || code == 0xFF) {
      out[code_at] = code;
      if (in[i] != 0 && i + 1 == n) return w;
      code_at = w++;
      code = 1;
    }
  }
  out[code_at] = code;
  return w;
}

ptrdiff_t cobs_decode(const uint8_t* in, size_t n, uint8_t* out, size_t out_capacity) {
  size_t r = 0;
  size_t w = 0;
  while (r < n) {
    const uint8_t code = in[r++];
    if (code == 0) return -1;
    const size_t run = code - 1u;
    if (run > n - r) return -1;
    // Every block but the last and but a full one (code 0xFF) ends with an implied zero.
    const size_t zero = (code != 0xFF && r + run < n) ? 1 : 0;
    if (run + zero > out_capacity - w) return -1;
    for (size_t k = 0; k < run; ++k) {
      if (in[r] == 0) return -1;
      out[w++] = in[r++];
    }
    if (zero != 0) out[w++] = 0;
  }
  return static_cast<ptrdiff_t>(w);
}

}  // namespace opsync::fw
