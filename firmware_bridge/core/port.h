// The hardware the portable core needs, as a tiny interface: one free-running 32-bit timer with
// input capture on up to four trigger inputs, one UART, and a way to keep interrupts out of a
// few lines of main-loop code. The STM32F405 port implements it with TIM2 and USART1; the host
// build with a simulated tick clock and a pseudo-terminal; the tests with a fake whose flags they
// set by hand (that is how the edge-at-wrap race is reproduced).
//
// Contexts: capture_read/timer_* are called from the timer interrupt (BridgeCore::timer_isr) and,
// for timer_count/timer_overflow_pending, from main-loop code inside a critical section. uart_*
// and capture_enable are called from the main loop only.
#pragma once

#include <cstdint>

namespace opsync::fw {

inline constexpr uint8_t kInputCount = 4;

enum class EdgeKind : uint8_t { rising = 1, falling = 2 };  // values as bridge.proto's EdgeKind

// One latched input-capture event: which input, the counter value the hardware latched, and
// which transition it was (the port knows: a channel pair per input, or the pin level).
struct RawCapture {
  uint8_t input = 0;
  uint32_t count = 0;
  EdgeKind kind = EdgeKind::rising;
};

class Port {
 public:
  // Free-running 32-bit timer.
  virtual uint32_t timer_count() = 0;
  // The counter wrapped (update/overflow flag) and timer_overflow_clear() was not called since.
  virtual bool timer_overflow_pending() = 0;
  virtual void timer_overflow_clear() = 0;
  // Takes the oldest pending capture (clearing its flag); false when none is pending.
  virtual bool capture_read(RawCapture* out) = 0;
  // Enables capture of both transitions on the inputs whose bit is set; the core filters by
  // polarity itself (debounce needs both transitions).
  virtual void capture_enable(uint32_t input_mask) = 0;

  // Non-blocking UART: false when the byte cannot be taken now (TX busy / nothing received).
  virtual bool uart_write(uint8_t byte) = 0;
  virtual bool uart_read(uint8_t* byte) = 0;
  // Received bytes lost before uart_read could take them (a UART overrun), since power-on.
  // A link that cannot lose bytes (a pseudo-terminal) keeps the default.
  virtual uint32_t uart_rx_overruns() { return 0; }

  // Masks interrupts; returns the previous state for critical_exit (so sections nest). Must also
  // be a compiler barrier. Held for a few instructions only.
  virtual uint32_t critical_enter() = 0;
  virtual void critical_exit(uint32_t state) = 0;

 protected:
  // Not virtual and not public: a port is never deleted through this interface, and a virtual
  // destructor would pull operator delete into a heap-free image.
  ~Port() = default;
};

// RAII critical section.
class CriticalSection {
 public:
  explicit CriticalSection(Port& port) : port_(port), state_(port.critical_enter()) {}
  ~CriticalSection() { port_.critical_exit(state_); }
  CriticalSection(const CriticalSection&) = delete;
  CriticalSection& operator=(const CriticalSection&) = delete;

 private:
  Port& port_;
  uint32_t state_;
};

}  // namespace opsync::fw
