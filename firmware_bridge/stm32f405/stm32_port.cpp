// TIM2 / USART1 port of the bridge core; see stm32_port.h.
#include "stm32_port.h"

#include "regs.h"

namespace opsync::fw::stm32 {
namespace {

struct Pin {
  uintptr_t port;
  uint32_t number;
};
constexpr Pin kInputPins[kInputCount] = {{gpio::kPortA, 0}, {gpio::kPortA, 1}, {gpio::kPortB, 10}, {gpio::kPortB, 11}};
constexpr uint32_t kInputFilter = 0b0011;  // fSAMPLING = fCK_INT, N = 8
constexpr uint32_t kSysTickHz = 100;
constexpr uint8_t kTimerPriority = 0;
constexpr uint8_t kUartPriority = 1;

void pin_alternate(const Pin& pin, uint32_t function, bool pull_down) {
  const uintptr_t base = pin.port;
  const uint32_t n = pin.number;
  reg(base + gpio::MODER) = (reg(base + gpio::MODER) & ~(3u << (2 * n))) | (gpio::kModeAlternate << (2 * n));
  if (pull_down) reg(base + gpio::PUPDR) = (reg(base + gpio::PUPDR) & ~(3u << (2 * n))) | (gpio::kPullDown << (2 * n));
  const uintptr_t afr = base + (n < 8 ? gpio::AFRL : gpio::AFRH);
  const uint32_t shift = 4 * (n % 8);
  reg(afr) = (reg(afr) & ~(0xFu << shift)) | (function << shift);
}

bool pin_high(const Pin& pin) { return ((reg(pin.port + gpio::IDR) >> pin.number) & 1u) != 0; }

}  // namespace

void Stm32Port::init(const BoardClocks& clocks, uint32_t baud) {
  asm volatile("cpsid i" ::: "memory");
  reg(scs::SCB_VTOR) = 0x0800'0000;

  reg(rcc::AHB1ENR) = reg(rcc::AHB1ENR) | rcc::AHB1ENR_GPIOAEN | rcc::AHB1ENR_GPIOBEN;
  reg(rcc::APB1ENR) = reg(rcc::APB1ENR) | rcc::APB1ENR_TIM2EN;
  reg(rcc::APB2ENR) = reg(rcc::APB2ENR) | rcc::APB2ENR_USART1EN;
  read_back(rcc::APB2ENR);  // the enables take a bus cycle: read back before touching the blocks

  // Trigger inputs, pulled down so that an unplugged input stays quiet.
  for (const Pin& pin : kInputPins) pin_alternate(pin, 1, true);
  // USART1: PA9 TX, PA10 RX.
  pin_alternate({gpio::kPortA, 9}, 7, false);
  pin_alternate({gpio::kPortA, 10}, 7, false);

  // TIM2: free-running 32-bit counter at the timer clock, every channel an input (capture
  // itself is enabled per input by capture_enable).
  reg(tim2::CR1) = 0;
  reg(tim2::DIER) = 0;
  reg(tim2::CCER) = 0;
  reg(tim2::PSC) = 0;
  reg(tim2::ARR) = 0xFFFF'FFFF;
  reg(tim2::CCMR1) = tim2::ccmr_input(kInputFilter) | (tim2::ccmr_input(kInputFilter) << 8);
  reg(tim2::CCMR2) = tim2::ccmr_input(kInputFilter) | (tim2::ccmr_input(kInputFilter) << 8);
  reg(tim2::EGR) = tim2::EGR_UG;  // load the prescaler, counter to 0
  reg(tim2::SR) = 0;
  reg(tim2::CR1) = tim2::CR1_URS | tim2::CR1_CEN;
  last_count_ = 0;
  wrap_pending_ = false;
  nvic_priority(irq::kTim2, kTimerPriority);
  nvic_enable(irq::kTim2);

  // SysTick: 100 Hz from the core clock; its handler reads the counter (wrap detection) and
  // wakes the main loop (heartbeats, debounce expiry).
  reg(scs::SYST_RVR) = clocks.hclk_hz / kSysTickHz - 1;
  reg(scs::SYST_CVR) = 0;
  reg(scs::SCB_SHPR3) = (reg(scs::SCB_SHPR3) & 0x00FF'FFFFu) | (static_cast<uint32_t>(kTimerPriority << 4) << 24);
  reg(scs::SYST_CSR) = scs::SYST_CSR_CLKSOURCE_CPU | scs::SYST_CSR_TICKINT | scs::SYST_CSR_ENABLE;

  // USART1: 8N1, receive interrupt on.
  const uintptr_t u = usart::kUsart1;
  reg(u + usart::CR1) = 0;
  reg(u + usart::BRR) = usart::brr(clocks.pclk2_hz, baud);
  reg(u + usart::CR1) = usart::CR1_UE | usart::CR1_TE | usart::CR1_RE | usart::CR1_RXNEIE;
  nvic_priority(irq::kUsart1, kUartPriority);
  nvic_enable(irq::kUsart1);
}

uint32_t Stm32Port::timer_count() {
  // Called with interrupts masked or from the timer-level interrupts, so last_count_ has one
  // writer at a time.
  const uint32_t count = reg(tim2::CNT);
  if (count < last_count_) wrap_pending_ = true;
  last_count_ = count;
  return count;
}

void Stm32Port::capture_enable(uint32_t input_mask) {
  const uint32_t state = critical_enter();
  uint32_t ccer = reg(tim2::CCER);
  uint32_t dier = reg(tim2::DIER);
  for (uint32_t c = 0; c < kInputCount; ++c) {
    ccer &= ~tim2::ccer_mask(c);
    dier &= ~tim2::dier_ccie(c);
    if (((input_mask >> c) & 1u) != 0) {
      ccer |= tim2::ccer_both_edges(c);
      dier |= tim2::dier_ccie(c);
    }
  }
  reg(tim2::CCER) = ccer;
  reg(tim2::DIER) = dier;
  enabled_mask_ = input_mask;
  critical_exit(state);
}

void Stm32Port::harvest() {
  const uint32_t sr = reg(tim2::SR);
  for (uint32_t c = 0; c < kInputCount; ++c) {
    if ((sr & tim2::sr_ccif(c)) == 0) continue;
    const uint32_t count = reg(tim2::CCR1 + 4 * c);  // reading CCRx clears CCxIF
    if ((sr & tim2::sr_ccof(c)) != 0) {
      ++overcaptures_;
      reg(tim2::SR) = ~tim2::sr_ccof(c);  // rc_w0: writing 1 leaves the other flags alone
    }
    if (((enabled_mask_ >> c) & 1u) == 0 || pending_count_ == kMaxPending) continue;
    pending_[pending_count_++] =
        RawCapture{static_cast<uint8_t>(c), count, pin_high(kInputPins[c]) ? EdgeKind::rising : EdgeKind::falling};
  }
  RawCapture injected;
  while (pending_count_ < kMaxPending && injected_.pop(&injected)) pending_[pending_count_++] = injected;

  // Oldest first: the largest age relative to the counter now (ages are < one period).
  const uint32_t now = timer_count();
  for (uint32_t i = 1; i < pending_count_; ++i) {
    const RawCapture item = pending_[i];
    uint32_t j = i;
    for (; j > 0 && now - pending_[j - 1].count < now - item.count; --j) pending_[j] = pending_[j - 1];
    pending_[j] = item;
  }
}

bool Stm32Port::capture_read(RawCapture* out) {
  if (pending_count_ == 0) harvest();
  if (pending_count_ == 0) return false;
  *out = pending_[0];
  for (uint32_t i = 1; i < pending_count_; ++i) pending_[i - 1] = pending_[i];
  --pending_count_;
  return true;
}

bool Stm32Port::inject_capture(const RawCapture& capture) {
  if (!injected_.push(capture)) return false;
  nvic_set_pending(irq::kTim2);
  return true;
}

bool Stm32Port::uart_write(uint8_t byte) {
  const uintptr_t u = usart::kUsart1;
  if ((reg(u + usart::SR) & usart::SR_TXE) != 0) {
    reg(u + usart::DR) = byte;
    return true;
  }
  const uint32_t state = critical_enter();
  reg(u + usart::CR1) = reg(u + usart::CR1) | usart::CR1_TXEIE;
  critical_exit(state);
  return false;
}

void Stm32Port::usart1_isr() {
  const uintptr_t u = usart::kUsart1;
  const uint32_t sr = reg(u + usart::SR);
  if ((sr & usart::SR_ORE) != 0) ++rx_overruns_;  // a byte arrived while DR still held one: lost
  if ((sr & (usart::SR_RXNE | usart::SR_ORE)) != 0) {
    if (rx_.size() == rx_.capacity()) {
      // No room: leave the byte in DR and take no USART1 interrupt until the main loop has
      // made room (uart_read). Nothing is dropped here; on silicon a further byte before then
      // overruns (ORE, counted above), and QEMU's USART holds further bytes back. Masked in
      // the NVIC rather than by RXNEIE: QEMU 7.2's USART does not lower its interrupt line
      // when RXNEIE is cleared, so that would re-enter this handler forever.
      rx_paused_ = true;
      nvic_disable(irq::kUsart1);
      return;
    }
    (void)rx_.push(static_cast<uint8_t>(reg(u + usart::DR)));  // SR then DR read clears ORE too
  }
  const uint32_t cr1 = reg(u + usart::CR1);
  if ((cr1 & usart::CR1_TXEIE) != 0 && (sr & usart::SR_TXE) != 0) reg(u + usart::CR1) = cr1 & ~usart::CR1_TXEIE;
}

bool Stm32Port::uart_read(uint8_t* byte) {
  if (!rx_.pop(byte)) return false;
  // The interrupt paused reception with the ring full: resume it now that there is room (the
  // byte waiting in DR raises the interrupt at once).
  if (rx_paused_) {
    rx_paused_ = false;
    nvic_enable(irq::kUsart1);
  }
  return true;
}

uint32_t Stm32Port::critical_enter() {
  uint32_t primask;
  asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
  return primask;
}

void Stm32Port::critical_exit(uint32_t state) { asm volatile("msr primask, %0" ::"r"(state) : "memory"); }

}  // namespace opsync::fw::stm32
