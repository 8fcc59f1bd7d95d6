// Test-build edge injection and truth log; see test_injection.h.
#include "test_injection.h"

#include <pb_decode.h>

#include "bridge_test.nanopb.h"
#include "regs.h"

namespace opsync::fw::stm32 {
namespace {

constexpr uintptr_t kTruthUart = usart::kUsart2;

void put(char c) {
  while ((reg(kTruthUart + usart::SR) & usart::SR_TXE) == 0) {
  }
  reg(kTruthUart + usart::DR) = static_cast<uint8_t>(c);
}

void put(const char* text) {
  while (*text != '\0') put(*text++);
}

void put(uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) put(digits[--n]);
}

void field(const char* name, uint64_t value) {
  put(' ');
  put(name);
  put('=');
  put(value);
}

}  // namespace

void TestInjection::start(const BoardClocks& clocks, uint32_t baud, const char* version) {
  reg(rcc::APB1ENR) = reg(rcc::APB1ENR) | rcc::APB1ENR_USART2EN;
  read_back(rcc::APB1ENR);
  // PA2 = USART2 TX (AF7).
  reg(gpio::kPortA + gpio::MODER) = (reg(gpio::kPortA + gpio::MODER) & ~(3u << 4)) | (gpio::kModeAlternate << 4);
  reg(gpio::kPortA + gpio::AFRL) = (reg(gpio::kPortA + gpio::AFRL) & ~(0xFu << 8)) | (7u << 8);
  reg(kTruthUart + usart::BRR) = usart::brr(clocks.pclk1_hz, baud);
  reg(kTruthUart + usart::CR1) = usart::CR1_UE | usart::CR1_TE;

  tick_hz_ = clocks.tim2_hz;
  put("boot clock=");
  put(clock_source_name(clocks.source));
  field("tick_hz", clocks.tim2_hz);
  put(" version=");
  put(version);
  put('\n');
  core_.edges().set_observer(this);
  core_.set_extension(this);
}

bool TestInjection::extension_frame(const uint8_t* payload, size_t size, uint64_t rx_tick) {
  opsync_bridge_test_TestEnvelope envelope = opsync_bridge_test_TestEnvelope_init_zero;
  pb_istream_t stream = pb_istream_from_buffer(payload, size);
  if (!pb_decode(&stream, opsync_bridge_test_TestEnvelope_fields, &envelope)) {
    return false;  // not ours either: the core answers UNKNOWN_MESSAGE
  }
  if (envelope.which_body == opsync_bridge_test_TestEnvelope_stall_main_loop_tag) {
    // Busy in the main loop; interrupts (USART1 receive, TIM2, SysTick) keep running.
    const uint32_t ms = envelope.body.stall_main_loop.ms < 2000 ? envelope.body.stall_main_loop.ms : 2000;
    const uint64_t until = core_.now_tick() + static_cast<uint64_t>(ms) * (tick_hz_ / 1000);
    while (core_.now_tick() < until) {
    }
    put("stalled");
    field("ms", ms);
    put('\n');
    return true;
  }
  if (envelope.which_body != opsync_bridge_test_TestEnvelope_inject_edge_tag) return false;
  const opsync_bridge_test_InjectEdge& inject = envelope.body.inject_edge;
  put("inject");
  field("id", inject.id);
  const char* refused = nullptr;
  if (inject.input >= kInputCount) {
    refused = "input";
  } else if (inject.edge != static_cast<uint32_t>(EdgeKind::rising) &&
             inject.edge != static_cast<uint32_t>(EdgeKind::falling)) {
    refused = "edge";
  }
  const RawCapture capture{static_cast<uint8_t>(inject.input), static_cast<uint32_t>(rx_tick),
                           inject.edge == 2 ? EdgeKind::falling : EdgeKind::rising};
  if (refused == nullptr) {
    // The line first: the TIM2 interrupt runs as soon as it is pended, and its edge line must
    // come after this one.
    field("input", inject.input);
    field("edge", inject.edge);
    field("tick", rx_tick);
    put('\n');
    if (!port_.inject_capture(capture)) put("inject_queue_full\n");
    return true;
  }
  put(" refused reason=");
  put(refused);
  put('\n');
  return true;
}

void TestInjection::edge_detected(const EdgeRecord& edge, bool dropped) {
  if (!edges_.push(Detected{edge, dropped})) ++lost_;
}

void TestInjection::poll() {
  const bool running = core_.edges().running();
  if (running != running_) {
    running_ = running;
    put(running ? "running 1\n" : "running 0\n");
  }
  Detected d;
  while (edges_.pop(&d)) {
    put("edge");
    field("seq", d.edge.seq);
    field("input", d.edge.input);
    field("edge", static_cast<uint32_t>(d.edge.kind));
    field("tick", d.edge.tick);
    field("dropped", d.dropped ? 1 : 0);
    put('\n');
  }
  const uint32_t state = port_.critical_enter();
  const uint32_t lost = lost_;
  port_.critical_exit(state);
  if (lost != lost_reported_) {
    put("truth_lost");
    field("n", lost - lost_reported_);
    put('\n');
    lost_reported_ = lost;
  }
  const uint32_t overruns = port_.uart_rx_overruns();
  if (overruns != rx_overruns_reported_) {
    put("rx_overrun");
    field("n", overruns - rx_overruns_reported_);
    put('\n');
    rx_overruns_reported_ = overruns;
  }
  if (++polls_ % 64 == 0) {
    const uint32_t peak = stack_peak_bytes();
    if (peak > stack_reported_) {
      stack_reported_ = peak;
      put("stack");
      field("peak", peak);
      put('\n');
    }
  }
}

}  // namespace opsync::fw::stm32
