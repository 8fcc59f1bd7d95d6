# The STM32F405 firmware inside the normal build: firmware_bridge/stm32f405 is a separate CMake
# project with the arm-none-eabi toolchain, run as an ExternalProject so that this build stays a
# host build. It is built when Debian's gcc-arm-none-eabi (with newlib) and the nanopb runtime
# sources (unpacked by tools/setup.sh from Debian's source package) are both there; otherwise
# configure says what is missing and the rest of the build and tests go on without it.
#
# Sets, for the tests (cache entries: tests/ is another directory scope):
#   OPSYNC_STM32_BUILT        ON/OFF
#   OPSYNC_STM32_WHY_NOT      why it is not built (empty when it is)
#   OPSYNC_STM32_ELF          the firmware image
#   OPSYNC_STM32_INJECT_ELF   the test-injection image
#   OPSYNC_QEMU_ARM           qemu-system-arm, or empty
option(OPSYNC_BUILD_STM32 "Build the STM32F405 firmware when arm-none-eabi-gcc and the nanopb sources are present" ON)
set(OPSYNC_NANOPB_SOURCE_DIR "/var/cache/opsync/src/nanopb-0.4.7" CACHE PATH
    "nanopb 0.4.7 runtime sources for the Cortex-M build (tools/setup.sh unpacks Debian's source package there)")
set(OPSYNC_STM32_HSE_HZ 8000000 CACHE STRING "Crystal frequency of the STM32F405 board (Hz)")
set(OPSYNC_STM32_JOBS 1 CACHE STRING "Parallel jobs of the firmware sub-build (it runs beside the host build's own)")

find_program(OPSYNC_ARM_GCC NAMES arm-none-eabi-gcc)
find_program(OPSYNC_ARM_GXX NAMES arm-none-eabi-g++)
find_program(OPSYNC_QEMU_ARM NAMES qemu-system-arm)

set(why_not "")
if(NOT OPSYNC_BUILD_STM32)
  set(why_not "OPSYNC_BUILD_STM32 is OFF")
elseif(NOT OPSYNC_ARM_GCC OR NOT OPSYNC_ARM_GXX)
  set(why_not "arm-none-eabi-gcc/g++ not found (Debian package gcc-arm-none-eabi)")
else()
  execute_process(COMMAND ${OPSYNC_ARM_GCC} -mcpu=cortex-m4 -mthumb -mfloat-abi=soft --specs=nano.specs
                          -print-file-name=libc_nano.a
                  OUTPUT_VARIABLE libc_nano OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  # The image links libstdc++_nano.a, which is not in the headers package: without this probe a
  # machine lacking it fails only at the final link (it did once, on a fresh machine).
  execute_process(COMMAND ${OPSYNC_ARM_GXX} -mcpu=cortex-m4 -mthumb -mfloat-abi=soft --specs=nano.specs
                          -print-file-name=libstdc++_nano.a
                  OUTPUT_VARIABLE libstdcxx_nano OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  execute_process(COMMAND ${OPSYNC_ARM_GXX} -mcpu=cortex-m4 -mthumb -x c++ -std=c++20 -fsyntax-only -
                  INPUT_FILE "${CMAKE_CURRENT_SOURCE_DIR}/cmake/arm_headers_probe.cpp"
                  RESULT_VARIABLE headers_rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT IS_ABSOLUTE "${libc_nano}")
    set(why_not "newlib for arm-none-eabi not found (Debian package libnewlib-arm-none-eabi)")
  elseif(NOT IS_ABSOLUTE "${libstdcxx_nano}")
    set(why_not "libstdc++_nano.a for arm-none-eabi not found (Debian package libstdc++-arm-none-eabi-newlib)")
  elseif(NOT headers_rc EQUAL 0)
    set(why_not "C++ headers for arm-none-eabi not found (Debian package libstdc++-arm-none-eabi-dev)")
  elseif(NOT EXISTS "${OPSYNC_NANOPB_SOURCE_DIR}/pb_decode.c")
    set(why_not "nanopb runtime sources not found in ${OPSYNC_NANOPB_SOURCE_DIR} (run tools/setup.sh, or set OPSYNC_NANOPB_SOURCE_DIR)")
  endif()
endif()

set(stm32_dir "${CMAKE_CURRENT_BINARY_DIR}/stm32f405")
set(elf "${stm32_dir}/opsync-bridge-stm32f405.elf")
set(inject_elf "${stm32_dir}/opsync-bridge-stm32f405-inject.elf")
set(OPSYNC_STM32_ELF "${elf}" CACHE INTERNAL "")
set(OPSYNC_STM32_INJECT_ELF "${inject_elf}" CACHE INTERNAL "")
set(OPSYNC_STM32_WHY_NOT "${why_not}" CACHE INTERNAL "")

if(why_not)
  message(STATUS "STM32F405 firmware: not built: ${why_not}")
  set(OPSYNC_STM32_BUILT OFF CACHE INTERNAL "")
else()
  message(STATUS "STM32F405 firmware: built with ${OPSYNC_ARM_GCC}, nanopb runtime from ${OPSYNC_NANOPB_SOURCE_DIR}")
  set(OPSYNC_STM32_BUILT ON CACHE INTERNAL "")
  include(ExternalProject)
  ExternalProject_Add(opsync_fw_stm32f405
    SOURCE_DIR "${CMAKE_CURRENT_SOURCE_DIR}/stm32f405"
    BINARY_DIR "${stm32_dir}"
    CMAKE_GENERATOR Ninja
    CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${CMAKE_CURRENT_SOURCE_DIR}/cmake/ArmNoneEabi.cmake
               -DCMAKE_BUILD_TYPE=Release
               -DOPSYNC_SOURCE_DIR=${PROJECT_SOURCE_DIR}
               -DOPSYNC_NANOPB_SOURCE_DIR=${OPSYNC_NANOPB_SOURCE_DIR}
               -DOPSYNC_FW_VERSION=${OPSYNC_FW_VERSION}
               -DOPSYNC_STM32_HSE_HZ=${OPSYNC_STM32_HSE_HZ}
               -DOPSYNC_WERROR=${OPSYNC_WERROR}
               -DNANOPB_GENERATOR=${NANOPB_GENERATOR}
    BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> --parallel ${OPSYNC_STM32_JOBS}
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON
    BUILD_BYPRODUCTS "${elf}" "${inject_elf}")
endif()
