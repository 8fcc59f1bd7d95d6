# What the portable core may use, enforced on every build of it: no exceptions, no RTTI, no
# thread-safe statics (they call into a runtime lock), no VLAs, and a stack bound per function
# (GCC reports any function above it, or with a dynamic frame, as an error with OPSYNC_WERROR).
set(OPSYNC_FW_CORE_FLAGS -fno-exceptions -fno-rtti -fno-threadsafe-statics)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND OPSYNC_FW_CORE_FLAGS -Wvla -Wstack-usage=320)
else()
  list(APPEND OPSYNC_FW_CORE_FLAGS -Wvla)
endif()
