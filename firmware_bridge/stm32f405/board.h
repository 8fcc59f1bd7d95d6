// Clocks of the STM32F405 bridge, and whether it runs on silicon or under QEMU.
//
// Silicon: SYSCLK = 168 MHz from the PLL, fed by the crystal (HSE, OPSYNC_STM32_HSE_HZ) or, if
// the crystal does not start within ~100 ms, by the internal 16 MHz RC (HSI, +-1 %: the host's
// clock fit absorbs the rate, but the crystal is what a timing bridge should run on). AHB /1,
// APB1 /4 = 42 MHz (TIM2 runs at twice that: 84 MHz), APB2 /2 = 84 MHz (USART1).
//
// QEMU 7.2 (machine netduinoplus2) has no RCC model: the block reads as zeros and ignores
// writes. On silicon RCC_CR can never read 0 (the core runs on the HSI, whose ready bit is set
// from reset), so a zero RCC_CR means the emulator. There SYSCLK is fixed at 168 MHz (SysTick
// counts at it) and TIM2 counts at 1 GHz: the stm32f2xx_timer model's default
// "clock-frequency", which the STM32F405 SoC model leaves as it is (timer ticks = virtual-clock
// nanoseconds / (PSC + 1)). Measured on this machine: 5.95 TIM2 counts per SysTick count.
#pragma once

#include <cstdint>

namespace opsync::fw::stm32 {

#ifndef OPSYNC_STM32_HSE_HZ
#define OPSYNC_STM32_HSE_HZ 8000000
#endif
inline constexpr uint32_t kHseHz = OPSYNC_STM32_HSE_HZ;
static_assert(kHseHz >= 4'000'000 && kHseHz <= 26'000'000 && kHseHz % 2'000'000 == 0,
              "OPSYNC_STM32_HSE_HZ: the PLL set-up needs a 4..26 MHz crystal, a multiple of 2 MHz");

inline constexpr uint32_t kHsiHz = 16'000'000;
inline constexpr uint32_t kSysclkHz = 168'000'000;
inline constexpr uint32_t kQemuTimerHz = 1'000'000'000;

enum class ClockSource : uint8_t { hse_pll, hsi_pll, hsi, emulator };

struct BoardClocks {
  ClockSource source = ClockSource::hsi;
  uint32_t hclk_hz = kHsiHz;   // core and SysTick
  uint32_t pclk1_hz = kHsiHz;  // USART2
  uint32_t pclk2_hz = kHsiHz;  // USART1
  uint32_t tim2_hz = kHsiHz;   // the tick rate (TIM2 prescaler 1)
};

// Sets up the clock tree (silicon) or recognises the emulator; every wait is bounded.
BoardClocks board_clock_init();
const char* clock_source_name(ClockSource source);

// Deepest the main stack has been since reset, in bytes (start-up paints it; startup.cpp).
uint32_t stack_peak_bytes();

}  // namespace opsync::fw::stm32
