# Warning flags for project code only (generated protobuf code and system headers are exempt).
# (-Wnull-dereference is left out: GCC 12 reports false positives inside libstdc++ at -O2.)
add_library(opsync_warnings INTERFACE)
target_compile_options(opsync_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wformat=2
  -Wimplicit-fallthrough
  # GCC only (clang, which builds the fuzzers, does not know them)
  $<$<CXX_COMPILER_ID:GNU>:-Wuseless-cast -Wduplicated-cond -Wlogical-op>)
if(OPSYNC_WERROR)
  target_compile_options(opsync_warnings INTERFACE -Werror)
endif()
