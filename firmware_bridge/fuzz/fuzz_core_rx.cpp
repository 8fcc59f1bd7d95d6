// libFuzzer target: BridgeCore fed fuzzed host traffic. The input is cut into records at each
// 0xA5 byte; a record whose first byte is even is sent as a properly framed payload (so that
// nanopb and the request handlers see well-formed frames carrying fuzzed protobuf), an odd one
// as raw bytes (the frame decoder's problem). Between records the timer runs on (wrapping now
// and then), edges are latched and the timer interrupt runs; the UART sometimes refuses bytes.
// Checks, after every step: every byte the core sent forms valid frames holding decodable
// envelopes of device-to-host kinds, no frame exceeds 75 bytes, every critical section was
// left, and after draining no edge is left in the ring.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/bridge_core.h"

namespace {

using namespace opsync::fw;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_core_rx: %s\n", what);
  std::abort();
}

class FuzzPort final : public Port {
 public:
  uint64_t tick = 0xFFFF'F000u;  // near the first wrap
  bool overflow = false;
  RawCapture pending[8];
  int pending_count = 0;
  const uint8_t* rx = nullptr;
  size_t rx_size = 0;
  bool tx_busy = false;
  int depth = 0;

  FrameDecoder out;
  uint32_t frames_out = 0;
  size_t frame_bytes = 0;

  void advance(uint64_t ticks) {
    const uint64_t before = tick;
    tick += ticks;
    if ((before >> 32) != (tick >> 32)) overflow = true;
  }
  uint32_t timer_count() override { return static_cast<uint32_t>(tick); }
  bool timer_overflow_pending() override { return overflow; }
  void timer_overflow_clear() override { overflow = false; }
  bool capture_read(RawCapture* c) override {
    if (pending_count == 0) return false;
    *c = pending[0];
    for (int i = 1; i < pending_count; ++i) pending[i - 1] = pending[i];
    --pending_count;
    return true;
  }
  void capture_enable(uint32_t) override {}
  bool uart_read(uint8_t* b) override {
    if (rx_size == 0) return false;
    *b = *rx++;
    --rx_size;
    return true;
  }
  bool uart_write(uint8_t b) override {
    if (tx_busy) return false;
    if (++frame_bytes > kMaxFrameBytes) fail("frame longer than 75 bytes");
    if (b == 0) frame_bytes = 0;
    FrameResult r;
    if (out.push(b, &r)) {
      if (r.status != FrameStatus::ok) fail("the core sent a bad frame");
      Envelope e = opsync_bridge_Envelope_init_zero;
      if (!envelope_decode(r.payload, r.size, &e)) fail("the core sent an undecodable envelope");
      if (e.which_body < opsync_bridge_Envelope_hello_tag) fail("the core sent a host-to-device message");
      ++frames_out;
    }
    return true;
  }
  uint32_t critical_enter() override { return static_cast<uint32_t>(depth++); }
  void critical_exit(uint32_t s) override { depth = static_cast<int>(s); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzPort port;
  CoreOptions o;
  o.tick_hz = 1'000'000;
  BridgeCore core(port, o);
  core.start();
  core.edges().set_running(true);

  size_t i = 0;
  while (i < size) {
    size_t end = i;
    while (end < size && data[end] != 0xA5) ++end;
    const uint8_t* rec = data + i;
    const size_t rec_size = end - i;
    uint8_t framed[kMaxFrameBytes];
    if (rec_size > 0 && rec[0] % 2 == 0) {
      const size_t n = frame_encode(rec + 1, rec_size - 1 > kMaxPayloadBytes ? kMaxPayloadBytes : rec_size - 1, framed,
                                    sizeof framed);
      port.rx = framed;
      port.rx_size = n;
    } else {
      port.rx = rec;
      port.rx_size = rec_size;
    }
    const uint8_t knob = rec_size > 0 ? rec[rec_size - 1] : 0;
    port.tx_busy = (knob & 0x03) == 0;
    while (port.rx_size > 0) core.poll();
    // Time passes (up to ~16 s at 1 MHz: crosses wraps), an edge or two, the interrupt.
    port.advance(static_cast<uint64_t>(knob) << (knob % 17));
    if (port.pending_count < 8) port.pending[port.pending_count++] = RawCapture{static_cast<uint8_t>(knob % 5),
                                                                              port.timer_count(),
                                                                              knob & 0x10 ? EdgeKind::falling : EdgeKind::rising};
    core.timer_isr();
    if (port.overflow && (knob & 0x20)) core.timer_isr();
    port.tx_busy = false;
    core.poll();
    if (port.depth != 0) fail("a critical section was not left");
    i = end + 1;
  }
  // Drain: everything queued goes out as valid frames.
  for (int k = 0; k < 200; ++k) core.poll();
  if (core.edges().queued() != 0) fail("edges left in the ring after draining");
  return 0;
}
