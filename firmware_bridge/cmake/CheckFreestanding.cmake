# CTest script: fails if the given static libraries call anything a heap-free, exception-free
# firmware image must not contain (malloc/new, throw/catch, RTTI, locked statics, stdio).
# The compiler flags already forbid the language features; this catches library calls, e.g. a
# std:: helper that throws or allocates.
#   cmake -DNM=<nm> -DLIBS="a.a;b.a" -P CheckFreestanding.cmake
set(forbidden
  "^malloc$" "^calloc$" "^realloc$" "^free$" "^_Zn[wa]" "^_Zd[la]"
  "^__cxa_allocate_exception$" "^__cxa_throw$" "^__cxa_begin_catch$" "^__gxx_personality"
  "^_ZTI" "^__dynamic_cast$" "^__cxa_guard_acquire$" "^_ZSt[0-9]+__throw_"
  "printf$" "^puts$" "^fopen$" "^abort$")
set(bad "")
foreach(lib IN LISTS LIBS)
  execute_process(COMMAND ${NM} --undefined-only --format=just-symbols ${lib}
                  OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${lib}")
  endif()
  string(REPLACE "\n" ";" syms "${syms}")
  foreach(sym IN LISTS syms)
    foreach(pattern IN LISTS forbidden)
      if(sym MATCHES "${pattern}")
        list(APPEND bad "${sym} (${lib})")
      endif()
    endforeach()
  endforeach()
endforeach()
if(bad)
  list(REMOVE_DUPLICATES bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "the firmware core uses what a bare-metal image cannot have:\n  ${bad}")
endif()
message(STATUS "firmware core: no heap, exceptions, RTTI, locked statics or stdio")
