// Start-up of the STM32F405 image, written for this project (no vendor files): the vector
// table, the reset handler (copy .data, zero .bss, run C++ constructors, enter the program) and the
// default handler every unused interrupt points at. Symbols come from stm32f405.ld. The program
// proper starts at firmware_main() (main.cpp); C++ does not let a program call main itself.
#include <cstdint>

#include "regs.h"

extern "C" {
extern uint32_t _stack_top;
extern uint32_t _stack_limit;
extern uint32_t _data_start, _data_end, _data_load;
extern uint32_t _bss_start, _bss_end;
extern void (*_init_array_start[])();
extern void (*_init_array_end[])();

void firmware_main();
void Reset_Handler();
void Default_Handler();

// Handlers the port defines; the rest fall back to Default_Handler.
void NMI_Handler() __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler() __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler() __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler() __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler() __attribute__((weak, alias("Default_Handler")));
void SVC_Handler() __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler() __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler() __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler() __attribute__((weak, alias("Default_Handler")));
void TIM2_IRQHandler() __attribute__((weak, alias("Default_Handler")));
void USART1_IRQHandler() __attribute__((weak, alias("Default_Handler")));
void USART2_IRQHandler() __attribute__((weak, alias("Default_Handler")));

// A pure virtual call cannot happen in this code (no object is used before it is constructed);
// if it ever did, treat it as a fault. Defined here so that no C++ runtime is linked in.
void __cxa_pure_virtual() { Default_Handler(); }
}

namespace {

using Handler = void (*)();
namespace irq = opsync::fw::stm32::irq;

constexpr uint32_t kSystemVectors = 16;
constexpr uint32_t kVectors = kSystemVectors + irq::kCount;

// The table as the core reads it at reset: initial stack pointer, then handlers.
struct VectorTable {
  uint32_t* initial_sp;
  Handler vectors[kVectors - 1];
};

constexpr VectorTable make_table() {
  VectorTable t{&_stack_top, {}};
  for (Handler& h : t.vectors) h = Default_Handler;
  const auto set = [&t](uint32_t exception, Handler h) { t.vectors[exception - 1] = h; };
  set(1, Reset_Handler);
  set(2, NMI_Handler);
  set(3, HardFault_Handler);
  set(4, MemManage_Handler);
  set(5, BusFault_Handler);
  set(6, UsageFault_Handler);
  for (uint32_t n = 7; n <= 10; ++n) set(n, nullptr);  // reserved
  set(11, SVC_Handler);
  set(12, DebugMon_Handler);
  set(13, nullptr);  // reserved
  set(14, PendSV_Handler);
  set(15, SysTick_Handler);
  set(kSystemVectors + irq::kTim2, TIM2_IRQHandler);
  set(kSystemVectors + irq::kUsart1, USART1_IRQHandler);
  set(kSystemVectors + irq::kUsart2, USART2_IRQHandler);
  return t;
}

}  // namespace

__attribute__((section(".isr_vector"), used)) const VectorTable g_vector_table = make_table();

namespace {
constexpr uint32_t kStackPaint = 0xA5A5'A5A5;
}

extern "C" void Reset_Handler() {
  // Paint the unused stack (up to a little below the current stack pointer) for the
  // high-water mark.
  uint32_t* sp;
  asm volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t* p = &_stack_limit; p < sp - 16;) *p++ = kStackPaint;
  // Word loops (the compiler may turn them into memcpy/memset, which need neither section).
  const uint32_t* from = &_data_load;
  for (uint32_t* to = &_data_start; to < &_data_end;) *to++ = *from++;
  for (uint32_t* p = &_bss_start; p < &_bss_end;) *p++ = 0;
  for (void (**ctor)() = _init_array_start; ctor < _init_array_end; ++ctor) (*ctor)();
  firmware_main();
  Default_Handler();
}

// A fault or an interrupt nobody handles: reset, so that the bridge comes back (the host sees a
// Hello and Edge.seq starting again) rather than hang with the trigger inputs dead.
extern "C" void Default_Handler() {
  namespace scs = opsync::fw::stm32::scs;
  opsync::fw::stm32::reg(scs::SCB_AIRCR) = scs::AIRCR_SYSRESET;
  for (;;) {
  }
}

namespace opsync::fw::stm32 {

uint32_t stack_peak_bytes() {
  const uint32_t* p = &_stack_limit;
  while (p < &_stack_top && *p == kStackPaint) ++p;
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&_stack_top) - reinterpret_cast<uintptr_t>(p));
}

}  // namespace opsync::fw::stm32
