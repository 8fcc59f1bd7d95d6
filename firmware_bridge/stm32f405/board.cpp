// Clock tree set-up; see board.h.
#include "board.h"

#include "regs.h"

namespace opsync::fw::stm32 {
namespace {

// ~100 ms at 16 MHz for an oscillator or the PLL to report ready (HSE start-up is ~2 ms,
// PLL lock < 1 ms on silicon).
constexpr uint32_t kReadyPolls = 400'000;

bool wait_for(uintptr_t address, uint32_t mask, uint32_t value) {
  for (uint32_t i = 0; i < kReadyPolls; ++i) {
    if ((reg(address) & mask) == value) return true;
  }
  return false;
}

// PLL: input / M = 2 MHz, x N = 336 MHz (VCO), / P = 168 MHz, / Q = 48 MHz (USB, unused).
bool start_pll(bool from_hse) {
  const uint32_t input_hz = from_hse ? kHseHz : kHsiHz;
  reg(rcc::PLLCFGR) = rcc::pllcfgr(input_hz / 2'000'000, 168, 2, from_hse, 7);
  reg(rcc::CR) = reg(rcc::CR) | rcc::CR_PLLON;
  if (wait_for(rcc::CR, rcc::CR_PLLRDY, rcc::CR_PLLRDY)) return true;
  reg(rcc::CR) = reg(rcc::CR) & ~rcc::CR_PLLON;
  return false;
}

}  // namespace

const char* clock_source_name(ClockSource source) {
  switch (source) {
    case ClockSource::hse_pll: return "hse-pll";
    case ClockSource::hsi_pll: return "hsi-pll";
    case ClockSource::hsi: return "hsi";
    case ClockSource::emulator: return "qemu";
  }
  return "?";
}

BoardClocks board_clock_init() {
  BoardClocks c;
  if (reg(rcc::CR) == 0) {
    // QEMU: nothing to set up. The values below are what the emulator runs at (board.h); the
    // APB figures only give the UARTs plausible divisors (QEMU ignores them).
    c.source = ClockSource::emulator;
    c.hclk_hz = kSysclkHz;
    c.pclk1_hz = kSysclkHz / 4;
    c.pclk2_hz = kSysclkHz / 2;
    c.tim2_hz = kQemuTimerHz;
    return c;
  }

  // 168 MHz needs 5 flash wait states (2.7-3.6 V); set them, and the bus prescalers, before
  // the switch. The regulator is in scale 1 from reset, as 168 MHz requires.
  reg(flash::ACR) = (reg(flash::ACR) & ~flash::ACR_LATENCY_MASK) | 5u | flash::ACR_PRFTEN | flash::ACR_ICEN |
                    flash::ACR_DCEN;

  reg(rcc::CR) = reg(rcc::CR) | rcc::CR_HSEON;
  bool pll = false;
  if (wait_for(rcc::CR, rcc::CR_HSERDY, rcc::CR_HSERDY)) {
    pll = start_pll(true);
    if (pll) c.source = ClockSource::hse_pll;
  }
  if (!pll) {
    reg(rcc::CR) = reg(rcc::CR) & ~rcc::CR_HSEON;
    pll = start_pll(false);
    if (pll) c.source = ClockSource::hsi_pll;
  }
  if (!pll) return c;  // stay on the HSI, every bus at 16 MHz

  reg(rcc::CFGR) = rcc::CFGR_HPRE_DIV1 | rcc::CFGR_PPRE1_DIV4 | rcc::CFGR_PPRE2_DIV2;
  reg(rcc::CFGR) = (reg(rcc::CFGR) & ~rcc::CFGR_SW_MASK) | rcc::CFGR_SW_PLL;
  if (!wait_for(rcc::CFGR, rcc::CFGR_SWS_MASK, rcc::CFGR_SWS_PLL)) {
    reg(rcc::CFGR) = 0;  // back to the HSI, no prescalers
    c.source = ClockSource::hsi;
    return c;
  }
  c.hclk_hz = kSysclkHz;
  c.pclk1_hz = kSysclkHz / 4;
  c.pclk2_hz = kSysclkHz / 2;
  c.tim2_hz = 2 * c.pclk1_hz;  // an APB prescaler above 1 doubles the timer clock
  return c;
}

}  // namespace opsync::fw::stm32
