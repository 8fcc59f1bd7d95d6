// The trigger bridge on an STM32F405: clocks, the port, the core, the interrupt handlers and
// the main loop. With OPSYNC_FW_TEST_INJECTION (the test build) it also takes injected edges
// over the link and writes a truth log (test_injection.h).
//
// Main loop: core.poll(), then sleep (WFI) unless received bytes or edges wait. Every
// interrupt ends the sleep: USART1 (a byte arrived, or TX is free again after a refused write),
// TIM2 (captures), SysTick (10 ms: heartbeats and debounce expiry come due). Under QEMU the
// sleep also keeps the emulator from spinning a host core.
#include <cstdint>

#include "board.h"
#include "core/bridge_core.h"
#include "regs.h"
#include "stm32_port.h"
#ifdef OPSYNC_FW_TEST_INJECTION
#include "test_injection.h"
#endif

#ifndef OPSYNC_FW_VERSION
#define OPSYNC_FW_VERSION "0.0.0"
#endif
#ifndef OPSYNC_STM32_BAUD
#define OPSYNC_STM32_BAUD 115200
#endif

namespace {

using opsync::fw::BridgeCore;
using opsync::fw::CoreOptions;
using opsync::fw::stm32::Stm32Port;

#ifdef OPSYNC_FW_TEST_INJECTION
constexpr const char* kVersion = OPSYNC_FW_VERSION "-inject";
#else
constexpr const char* kVersion = OPSYNC_FW_VERSION;
#endif

Stm32Port g_port;
BridgeCore* g_core = nullptr;  // set before interrupts are enabled

}  // namespace

extern "C" void TIM2_IRQHandler() {
  g_core->timer_isr();
  // The core takes a bounded number of captures per pass: come back for the rest.
  if (g_port.injected_pending()) opsync::fw::stm32::nvic_set_pending(opsync::fw::stm32::irq::kTim2);
}

extern "C" void SysTick_Handler() {
  (void)g_port.timer_count();  // no counter wrap goes unseen for more than 10 ms
  g_core->timer_isr();
}

extern "C" void USART1_IRQHandler() { g_port.usart1_isr(); }

extern "C" void firmware_main() {
  const opsync::fw::stm32::BoardClocks clocks = opsync::fw::stm32::board_clock_init();
  g_port.init(clocks, OPSYNC_STM32_BAUD);

  CoreOptions options;
  options.tick_hz = clocks.tim2_hz;
  options.firmware_version = kVersion;
  static BridgeCore core(g_port, options);
  g_core = &core;
#ifdef OPSYNC_FW_TEST_INJECTION
  static opsync::fw::stm32::TestInjection injection(g_port, core);
  injection.start(clocks, OPSYNC_STM32_BAUD, kVersion);
#endif
  core.start();
  asm volatile("cpsie i" ::: "memory");

  for (;;) {
    core.poll();
#ifdef OPSYNC_FW_TEST_INJECTION
    injection.poll();
    const bool busy = !injection.idle();
#else
    const bool busy = false;
#endif
    // Sleep with interrupts masked: one that arrives between the check and WFI still ends the
    // WFI, and its handler runs once PRIMASK is cleared.
    const uint32_t state = g_port.critical_enter();
    if (!busy && !g_port.rx_pending() && core.edges().queued() == 0) asm volatile("dsb\n\twfi" ::: "memory");
    g_port.critical_exit(state);
  }
}
