// The portable core's Port on an STM32F405: TIM2 for time and input capture, USART1 for the
// host link, PRIMASK for critical sections.
//
// Timer. TIM2 is a 32-bit up-counter, prescaler 1, auto-reload 0xFFFFFFFF: it wraps at 2^32
// (every 51 s at 84 MHz; 4.3 s at QEMU's 1 GHz). The core's overflow flag is *not* TIM2's
// update flag: the port sets it itself when a counter read comes out below the previous read
// (a wrap happened in between), and SysTick reads the counter every 10 ms so that no wrap goes
// unseen. On silicon both flags would do; QEMU 7.2's timer model computes its update event
// from a wrong deadline (the alarm is the current time added twice), so its update flag does
// not come at the wrap. The same code then runs on the board and under the emulator.
//
// Inputs (TIM2 channel = input, alternate function 1): 0 = PA0 (CH1), 1 = PA1 (CH2),
// 2 = PB10 (CH3), 3 = PB11 (CH4). Each channel captures both edges (CCxP = CCxNP = 1) through
// an 8-sample digital filter (~95 ns at 84 MHz, a fixed delay); which edge it was is the pin
// level when the interrupt reads the capture (right for pulses longer than the interrupt
// latency, ~1 us). An overcapture (a second edge before the first was read) is counted.
//
// Link: USART1, PA9 TX / PA10 RX (AF7), 8N1 at the configured baud rate. Received bytes go
// from the USART1 interrupt into a 1 KiB ring; the core writes when TXE is set, and a
// refused write arms the TXE interrupt so that the main loop's WFI ends when the UART frees up.
// The receive path never drops a byte itself: with the ring full the interrupt leaves the byte
// in DR and masks itself in the NVIC until the main loop has read one (uart_read unmasks it). At
// 115200 baud the main loop empties the ring far faster than bytes arrive, so on silicon the
// pause never outlasts one byte time; if it did, the USART's overrun flag (ORE) is counted and
// reported to the host (Counters.rx_overruns). Under QEMU, whose USART delivers bytes as fast
// as the firmware reads them, the pause is flow control and nothing is lost.
//
// Interrupt priorities: TIM2 and SysTick share the highest level (both run the core's timer
// interrupt body, which must not preempt itself); USART1 is one level below.
#pragma once

#include <cstdint>

#include "board.h"
#include "core/port.h"
#include "core/spsc_ring.h"

namespace opsync::fw::stm32 {

class Stm32Port final : public Port {
 public:
  // GPIO, TIM2 (counting, no capture enabled yet), USART1 at `baud`, SysTick at 100 Hz, NVIC.
  // Interrupts stay masked (PRIMASK) until the caller enables them.
  void init(const BoardClocks& clocks, uint32_t baud);

  // ---- Port ----
  uint32_t timer_count() override;
  bool timer_overflow_pending() override { return wrap_pending_; }
  void timer_overflow_clear() override { wrap_pending_ = false; }
  bool capture_read(RawCapture* out) override;
  void capture_enable(uint32_t input_mask) override;
  bool uart_write(uint8_t byte) override;
  bool uart_read(uint8_t* byte) override;
  uint32_t uart_rx_overruns() override { return rx_overruns_; }
  uint32_t critical_enter() override;
  void critical_exit(uint32_t state) override;

  // ---- interrupt side ----
  void usart1_isr();
  // Test builds: a capture as if TIM2 had latched `capture.count`, served by the next TIM2
  // interrupt like a hardware one. Main loop; false when the queue is full.
  bool inject_capture(const RawCapture& capture);
  bool injected_pending() const { return injected_.size() != 0; }

  // ---- main loop ----
  bool rx_pending() const { return rx_.size() != 0; }
  uint32_t overcaptures() const { return overcaptures_; }
  uint32_t rx_overruns() const { return rx_overruns_; }

 private:
  static constexpr uint32_t kMaxPending = kInputCount + 4;
  // Moves flagged hardware captures and queued injected ones into pending_, oldest first.
  void harvest();

  uint32_t last_count_ = 0;
  bool wrap_pending_ = false;
  uint32_t enabled_mask_ = 0;
  RawCapture pending_[kMaxPending] = {};
  uint32_t pending_count_ = 0;
  uint32_t overcaptures_ = 0;
  uint32_t rx_overruns_ = 0;
  // Set by the USART1 interrupt when it left a byte in DR for want of room (and masked itself
  // in the NVIC); cleared by the main loop, which unmasks it. The interrupt cannot run while
  // it is set, so the two never write it at once.
  volatile bool rx_paused_ = false;
  // 1 KiB: bursts of whole frames while the main loop is busy transmitting (~15 frames).
  SpscRing<uint8_t, 1024> rx_;
  SpscRing<RawCapture, 16> injected_;
};

}  // namespace opsync::fw::stm32
