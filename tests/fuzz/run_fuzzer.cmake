# One fuzzer run: cmake -DFUZZER=<binary> -DWORK=<dir> -DFIXTURES=<dir> -DGLOBS=<a,b> -DSEEDS=<dir>
#                       -DMAX_LEN=<bytes> -DRUNS=<n> [-DJOBS=<n>] -P run_fuzzer.cmake
# JOBS > 1 splits the RUNS between that many processes sharing one corpus (libFuzzer's -jobs), so a
# slow target's long run can use every core; the counts printed are their sums.
# Seeds: links to the shared fixtures matching GLOBS (the OPSYNC_FIXTURES environment variable
# overrides FIXTURES) and the committed corpus SEEDS/<fuzzer>, if any. New inputs go into
# WORK/<fuzzer>/corpus, crashes into WORK/<fuzzer>/. Prints libFuzzer's counts: inputs run,
# peak memory; fails on any crash, leak, timeout (30 s per input) or memory over the limit.
get_filename_component(name "${FUZZER}" NAME)
if(NOT EXISTS "${FUZZER}")
  message(FATAL_ERROR "${FUZZER} was not built (the *_fuzz_build test builds it)")
endif()
if(DEFINED ENV{OPSYNC_FIXTURES} AND NOT "$ENV{OPSYNC_FIXTURES}" STREQUAL "")
  set(FIXTURES "$ENV{OPSYNC_FIXTURES}")
endif()
set(dir "${WORK}/${name}")
file(MAKE_DIRECTORY "${dir}/corpus" "${dir}/seeds")
set(corpora "${dir}/corpus" "${dir}/seeds")
if(GLOBS)
  if(NOT EXISTS "${FIXTURES}/cycler")
    message(STATUS "${name}: shared fixtures not found at ${FIXTURES} (set OPSYNC_FIXTURES): "
                   "fuzzing without the fixture seeds")
  endif()
  string(REPLACE "," ";" globs "${GLOBS}")
  foreach(g IN LISTS globs)
    file(GLOB found "${FIXTURES}/${g}")
    foreach(f IN LISTS found)
      get_filename_component(base "${f}" NAME)
      file(CREATE_LINK "${f}" "${dir}/seeds/${base}" SYMBOLIC)
    endforeach()
  endforeach()
endif()
if(EXISTS "${SEEDS}/${name}")
  list(APPEND corpora "${SEEDS}/${name}")
endif()

# Memory: the importers promise 200 MB for any input (mapped, not read whole); ASan's shadow
# and quarantine come on top, so the limit is set above that, and the peak is printed.
# -close_fd_mask=2: the target's own stderr is discarded (mdbtools writes a warning line for every bad
# page map, about 1.4 kB per mutated .res, which made a 1,000,000-input log grow past a gigabyte);
# libFuzzer and the sanitizers report on a duplicate of stderr, so crashes and their stacks still show.
set(limits -timeout=30 -rss_limit_mb=512 -malloc_limit_mb=200 -print_final_stats=1 -close_fd_mask=2)
if(NOT JOBS OR JOBS LESS 2)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=quarantine_size_mb=16:detect_leaks=1
            "${FUZZER}" -runs=${RUNS} -seed=1 -max_len=${MAX_LEN} ${limits} -artifact_prefix=${dir}/ ${corpora}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  file(WRITE "${dir}/last_run.log" "${out}")
  string(REGEX MATCH "Done [0-9]+ runs in [0-9]+ second" done "${out}")
  string(REGEX MATCH "stat::number_of_executed_units: [0-9]+" units "${out}")
  string(REGEX MATCH "stat::peak_rss_mb: +[0-9]+" rss "${out}")
else()
  # Each job logs to fuzz-<n>.log in the working folder; no fixed -seed, or the jobs would repeat
  # each other's mutations until the shared corpus set them apart.
  math(EXPR per_job "(${RUNS} + ${JOBS} - 1) / ${JOBS}")
  file(GLOB old_logs "${dir}/fuzz-*.log")
  if(old_logs)
    file(REMOVE ${old_logs})
  endif()
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=quarantine_size_mb=16:detect_leaks=1
            "${FUZZER}" -jobs=${JOBS} -workers=${JOBS} -runs=${per_job} -max_len=${MAX_LEN} ${limits}
            -artifact_prefix=${dir}/ ${corpora}
    WORKING_DIRECTORY "${dir}" RESULT_VARIABLE rc OUTPUT_VARIABLE parent ERROR_VARIABLE parent)
  file(GLOB logs "${dir}/fuzz-*.log")
  set(out "${parent}")
  set(units_sum 0)
  set(rss_max 0)
  set(secs_max 0)
  foreach(log IN LISTS logs)
    file(READ "${log}" text)
    string(APPEND out "\n==> ${log}\n${text}")
    string(REGEX MATCH "stat::number_of_executed_units: ([0-9]+)" m "${text}")
    if(m)
      math(EXPR units_sum "${units_sum} + ${CMAKE_MATCH_1}")
    endif()
    string(REGEX MATCH "stat::peak_rss_mb: +([0-9]+)" m "${text}")
    if(m AND CMAKE_MATCH_1 GREATER rss_max)
      set(rss_max ${CMAKE_MATCH_1})
    endif()
    string(REGEX MATCH "Done [0-9]+ runs in ([0-9]+) second" m "${text}")
    if(NOT m)
      set(rc "a job stopped before its runs were done: ${log}")  # whatever the parent's exit says
    elseif(CMAKE_MATCH_1 GREATER secs_max)
      set(secs_max ${CMAKE_MATCH_1})
    endif()
  endforeach()
  file(WRITE "${dir}/last_run.log" "${out}")
  list(LENGTH logs n_logs)
  set(done "${n_logs} jobs: Done ${units_sum} runs in ${secs_max} seconds")
  set(units "stat::number_of_executed_units: ${units_sum}")
  set(rss "stat::peak_rss_mb: ${rss_max} (largest job)")
endif()
string(REGEX MATCH "INFO: seed corpus: files: [0-9]+" seeds "${out}")
message(STATUS "${name}: ${seeds}; ${done}; ${units}; ${rss} (log: ${dir}/last_run.log)")
if(NOT rc EQUAL 0)
  string(LENGTH "${out}" n)
  if(n GREATER 6000)
    math(EXPR from "${n} - 6000")
    string(SUBSTRING "${out}" ${from} -1 out)
  endif()
  message(FATAL_ERROR "${name} failed (exit ${rc}); the input is in ${dir}/ (crash-*, leak-*, timeout-*, oom-*):\n${out}")
endif()
