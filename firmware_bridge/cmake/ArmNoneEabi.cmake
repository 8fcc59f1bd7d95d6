# Toolchain file for the STM32F405 firmware: Debian's gcc-arm-none-eabi (bare metal, newlib).
# Used by the sub-build firmware_bridge/stm32f405, never by the host build.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# Compiler checks build static libraries (an executable would need the start-up code). Programs
# (nanopb_generator.py, arm-none-eabi-size) are the host's; no host library or header is used.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
