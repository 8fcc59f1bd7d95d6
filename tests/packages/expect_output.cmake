# Runs COMMAND (a ;-list) and passes when it exits with EXPECT_RC and its output matches
# EXPECT_REGEX. With SKIP_UNLESS false, prints "skipped: SKIP_WHY" (the test's
# SKIP_REGULAR_EXPRESSION) and runs nothing.
if(NOT SKIP_UNLESS)
  message("skipped: ${SKIP_WHY}")
  return()
endif()
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "expected exit ${EXPECT_RC}, got ${rc}")
endif()
string(REPLACE "\n" " " flat "${out}${err}")
if(NOT flat MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "the output does not match: ${EXPECT_REGEX}")
endif()
