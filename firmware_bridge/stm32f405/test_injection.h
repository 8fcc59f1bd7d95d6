// TEST BUILD ONLY (OPSYNC_FW_TEST_INJECTION): edges injected over the link, and a truth log.
//
// Injection. QEMU models neither GPIO nor TIM2 input capture, so the test build takes
// proto/bridge_test.proto's InjectEdge from the host link (USART1, framed like any envelope;
// the core hands such frames to this FrameExtension). The counter value at the frame's
// reception (the core's t2 for that frame, low 32 bits) becomes a capture on the given input,
// which the TIM2 interrupt serves exactly as a hardware one: Port::capture_read -> tick
// extension -> enable/polarity/debounce/holdoff -> Edge.seq -> ring -> Edge frame. So whether
// an injected edge becomes an Edge, and with which seq, is the core's decision, not this file's.
//
// Truth log, on USART2 TX (PA2, AF7; QEMU's second serial port), one text line per event:
//   boot clock=qemu tick_hz=1000000000 version=0.1.0+gabc1234
//   running 1                                   the core's running state changed
//   inject id=7 input=2 edge=1 tick=123456789   latched: the 64-bit tick of the capture
//   inject id=8 refused reason=...              not put through (bad input/edge, queue full)
//   edge seq=5 input=2 edge=1 tick=123456789 dropped=0   the core qualified an edge (observer)
//   truth_lost n=3                              edge lines lost (truth ring full)
//   stack peak=1234                             the stack's high-water mark grew (bytes)
//   rx_overrun n=1                              received bytes lost on USART1 (must not happen)
//   stalled ms=500                              a StallMainLoop request was served
// A tester compares the Edge frames the host received with these lines: each injected edge
// that the configuration lets through must arrive once, in order, with the tick latched here.
// Lines are written from the main loop with busy waits (instant under QEMU; ~5 ms a line on a
// board at 115200 baud, which this build is not meant for).
#pragma once

#include <cstddef>
#include <cstdint>

#include "board.h"
#include "core/bridge_core.h"
#include "core/spsc_ring.h"
#include "stm32_port.h"

namespace opsync::fw::stm32 {

class TestInjection final : public FrameExtension, public EdgeObserver {
 public:
  TestInjection(Stm32Port& port, BridgeCore& core) : port_(port), core_(core) {}

  // USART2 on, boot line, registers itself with the core.
  void start(const BoardClocks& clocks, uint32_t baud, const char* version);
  // Main loop: running changes and edge lines.
  void poll();
  bool idle() const { return edges_.size() == 0; }

  bool extension_frame(const uint8_t* payload, size_t size, uint64_t rx_tick) override;
  void edge_detected(const EdgeRecord& edge, bool dropped) override;  // producer context

 private:
  struct Detected {
    EdgeRecord edge;
    bool dropped;
  };

  Stm32Port& port_;
  BridgeCore& core_;
  bool running_ = false;
  SpscRing<Detected, 64> edges_;
  uint32_t lost_ = 0;           // written in producer context
  uint32_t lost_reported_ = 0;  // main loop
  uint32_t rx_overruns_reported_ = 0;  // main loop
  uint64_t tick_hz_ = 1;
  uint32_t polls_ = 0;
  uint32_t stack_reported_ = 0;
};

}  // namespace opsync::fw::stm32
