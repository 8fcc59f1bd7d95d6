// The STM32F405 registers this port touches (RM0090 and the Cortex-M4 generic user guide), by
// address. Only what is used is named; every access goes through reg(), a volatile 32-bit word.
#pragma once

#include <cstdint>

namespace opsync::fw::stm32 {

inline volatile uint32_t& reg(uintptr_t address) { return *reinterpret_cast<volatile uint32_t*>(address); }
// A read whose value does not matter (e.g. to let a clock enable take effect before the block is used).
inline void read_back(uintptr_t address) { [[maybe_unused]] const uint32_t value = reg(address); }

// ---- RCC (reset and clock control), 0x4002 3800 ----
namespace rcc {
inline constexpr uintptr_t kBase = 0x4002'3800;
inline constexpr uintptr_t CR = kBase + 0x00;
inline constexpr uintptr_t PLLCFGR = kBase + 0x04;
inline constexpr uintptr_t CFGR = kBase + 0x08;
inline constexpr uintptr_t AHB1ENR = kBase + 0x30;
inline constexpr uintptr_t APB1ENR = kBase + 0x40;
inline constexpr uintptr_t APB2ENR = kBase + 0x44;

inline constexpr uint32_t CR_HSION = 1u << 0;
inline constexpr uint32_t CR_HSIRDY = 1u << 1;
inline constexpr uint32_t CR_HSEON = 1u << 16;
inline constexpr uint32_t CR_HSERDY = 1u << 17;
inline constexpr uint32_t CR_PLLON = 1u << 24;
inline constexpr uint32_t CR_PLLRDY = 1u << 25;

// PLLCFGR fields: PLLM [5:0], PLLN [14:6], PLLP [17:16] ((P/2)-1), PLLSRC bit 22 (1 = HSE), PLLQ [27:24].
inline constexpr uint32_t pllcfgr(uint32_t m, uint32_t n, uint32_t p, bool hse, uint32_t q) {
  return m | (n << 6) | (((p / 2) - 1) << 16) | ((hse ? 1u : 0u) << 22) | (q << 24);
}

inline constexpr uint32_t CFGR_SW_MASK = 3u << 0;
inline constexpr uint32_t CFGR_SW_PLL = 2u << 0;
inline constexpr uint32_t CFGR_SWS_MASK = 3u << 2;
inline constexpr uint32_t CFGR_SWS_PLL = 2u << 2;
inline constexpr uint32_t CFGR_HPRE_DIV1 = 0u << 4;
inline constexpr uint32_t CFGR_PPRE1_DIV4 = 5u << 10;
inline constexpr uint32_t CFGR_PPRE2_DIV2 = 4u << 13;

inline constexpr uint32_t AHB1ENR_GPIOAEN = 1u << 0;
inline constexpr uint32_t AHB1ENR_GPIOBEN = 1u << 1;
inline constexpr uint32_t APB1ENR_TIM2EN = 1u << 0;
inline constexpr uint32_t APB1ENR_USART2EN = 1u << 17;
inline constexpr uint32_t APB2ENR_USART1EN = 1u << 4;
}  // namespace rcc

// ---- Flash interface, 0x4002 3C00 ----
namespace flash {
inline constexpr uintptr_t ACR = 0x4002'3C00;
inline constexpr uint32_t ACR_LATENCY_MASK = 7u << 0;
inline constexpr uint32_t ACR_PRFTEN = 1u << 8;
inline constexpr uint32_t ACR_ICEN = 1u << 9;
inline constexpr uint32_t ACR_DCEN = 1u << 10;
}  // namespace flash

// ---- GPIO ports A and B ----
namespace gpio {
inline constexpr uintptr_t kPortA = 0x4002'0000;
inline constexpr uintptr_t kPortB = 0x4002'0400;
inline constexpr uintptr_t MODER = 0x00;
inline constexpr uintptr_t PUPDR = 0x0C;
inline constexpr uintptr_t IDR = 0x10;
inline constexpr uintptr_t AFRL = 0x20;
inline constexpr uintptr_t AFRH = 0x24;
inline constexpr uint32_t kModeAlternate = 2;
inline constexpr uint32_t kPullDown = 2;
}  // namespace gpio

// ---- TIM2 (general-purpose, 32-bit), 0x4000 0000 ----
namespace tim2 {
inline constexpr uintptr_t kBase = 0x4000'0000;
inline constexpr uintptr_t CR1 = kBase + 0x00;
inline constexpr uintptr_t DIER = kBase + 0x0C;
inline constexpr uintptr_t SR = kBase + 0x10;
inline constexpr uintptr_t EGR = kBase + 0x14;
inline constexpr uintptr_t CCMR1 = kBase + 0x18;
inline constexpr uintptr_t CCMR2 = kBase + 0x1C;
inline constexpr uintptr_t CCER = kBase + 0x20;
inline constexpr uintptr_t CNT = kBase + 0x24;
inline constexpr uintptr_t PSC = kBase + 0x28;
inline constexpr uintptr_t ARR = kBase + 0x2C;
inline constexpr uintptr_t CCR1 = kBase + 0x34;  // CCR2..CCR4 follow, 4 bytes apart

inline constexpr uint32_t CR1_CEN = 1u << 0;
inline constexpr uint32_t CR1_URS = 1u << 2;
inline constexpr uint32_t EGR_UG = 1u << 0;
// Channel c (0..3): capture interrupt enable, capture flag, overcapture flag.
inline constexpr uint32_t dier_ccie(uint32_t c) { return 1u << (1 + c); }
inline constexpr uint32_t sr_ccif(uint32_t c) { return 1u << (1 + c); }
inline constexpr uint32_t sr_ccof(uint32_t c) { return 1u << (9 + c); }
// CCER per channel (4 bits each): CCxE bit 0, CCxP bit 1, CCxNP bit 3. CCxP = CCxNP = 1: capture
// on both edges (general-purpose timers only).
inline constexpr uint32_t ccer_both_edges(uint32_t c) { return 0b1011u << (4 * c); }
inline constexpr uint32_t ccer_mask(uint32_t c) { return 0b1111u << (4 * c); }
// CCMR half (8 bits per channel, two channels per register): CCxS = 01 (ICx on TIx), no
// prescaler, input filter ICxF [7:4].
inline constexpr uint32_t ccmr_input(uint32_t filter) { return 0b01u | (filter << 4); }
}  // namespace tim2

// ---- USART1 (APB2) and USART2 (APB1) ----
namespace usart {
inline constexpr uintptr_t kUsart1 = 0x4001'1000;
inline constexpr uintptr_t kUsart2 = 0x4000'4400;
inline constexpr uintptr_t SR = 0x00;
inline constexpr uintptr_t DR = 0x04;
inline constexpr uintptr_t BRR = 0x08;
inline constexpr uintptr_t CR1 = 0x0C;

inline constexpr uint32_t SR_ORE = 1u << 3;
inline constexpr uint32_t SR_RXNE = 1u << 5;
inline constexpr uint32_t SR_TXE = 1u << 7;
inline constexpr uint32_t CR1_RE = 1u << 2;
inline constexpr uint32_t CR1_TE = 1u << 3;
inline constexpr uint32_t CR1_RXNEIE = 1u << 5;
inline constexpr uint32_t CR1_TXEIE = 1u << 7;
inline constexpr uint32_t CR1_UE = 1u << 13;
// Oversampling by 16: BRR holds pclk / baud as mantissa.fraction(4 bits), i.e. the rounded ratio.
inline constexpr uint32_t brr(uint32_t pclk_hz, uint32_t baud) { return (pclk_hz + baud / 2) / baud; }
}  // namespace usart

// ---- Cortex-M4 system control space ----
namespace scs {
inline constexpr uintptr_t SYST_CSR = 0xE000'E010;
inline constexpr uintptr_t SYST_RVR = 0xE000'E014;
inline constexpr uintptr_t SYST_CVR = 0xE000'E018;
inline constexpr uint32_t SYST_CSR_ENABLE = 1u << 0;
inline constexpr uint32_t SYST_CSR_TICKINT = 1u << 1;
inline constexpr uint32_t SYST_CSR_CLKSOURCE_CPU = 1u << 2;

inline constexpr uintptr_t NVIC_ISER0 = 0xE000'E100;
inline constexpr uintptr_t NVIC_ICER0 = 0xE000'E180;
inline constexpr uintptr_t NVIC_ISPR0 = 0xE000'E200;
inline constexpr uintptr_t NVIC_IPR0 = 0xE000'E400;  // one byte per interrupt
inline constexpr uintptr_t SCB_VTOR = 0xE000'ED08;
inline constexpr uintptr_t SCB_AIRCR = 0xE000'ED0C;
inline constexpr uintptr_t SCB_SHPR3 = 0xE000'ED20;  // SysTick priority in [31:24]
inline constexpr uint32_t AIRCR_SYSRESET = (0x05FAu << 16) | (1u << 2);
}  // namespace scs

// STM32F405 interrupt numbers (position in the vector table after the 16 system exceptions).
namespace irq {
inline constexpr uint32_t kTim2 = 28;
inline constexpr uint32_t kUsart1 = 37;
inline constexpr uint32_t kUsart2 = 38;
inline constexpr uint32_t kCount = 82;  // 0..81 (FPU)
}  // namespace irq

// NVIC helpers (priorities use the top 4 bits on STM32F4: 0 is the most urgent).
inline void nvic_enable(uint32_t n) { reg(scs::NVIC_ISER0 + 4 * (n / 32)) = 1u << (n % 32); }
inline void nvic_disable(uint32_t n) { reg(scs::NVIC_ICER0 + 4 * (n / 32)) = 1u << (n % 32); }
inline void nvic_set_pending(uint32_t n) { reg(scs::NVIC_ISPR0 + 4 * (n / 32)) = 1u << (n % 32); }
inline void nvic_priority(uint32_t n, uint8_t level) {
  *reinterpret_cast<volatile uint8_t*>(scs::NVIC_IPR0 + n) = static_cast<uint8_t>(level << 4);
}

}  // namespace opsync::fw::stm32
