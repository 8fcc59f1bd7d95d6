# Every link writes the list of files it read (GNU ld's --dependency-file) into
# <build>/linkdeps/<target>.d, for the package check (tools/check_packages.py): the libraries,
# start files and linker scripts that a link takes from the system must come from listed packages.
# Included by the host build and by the sub-builds (STM32F405 image, clang fuzzers).
set(OPSYNC_LINKDEPS_DIR "${CMAKE_BINARY_DIR}/linkdeps")
file(MAKE_DIRECTORY "${OPSYNC_LINKDEPS_DIR}")
add_link_options("LINKER:--dependency-file=${OPSYNC_LINKDEPS_DIR}/$<TARGET_PROPERTY:NAME>.d")
