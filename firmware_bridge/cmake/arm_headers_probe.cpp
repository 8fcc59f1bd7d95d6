// Configure-time probe (cmake/Stm32Firmware.cmake): the C++ headers the firmware core needs
// from the arm-none-eabi toolchain (Debian's libstdc++-arm-none-eabi-dev).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
