# cmake -DDIR=scratch -P expect_selftest.cmake
#
# The test of tests/expect.cmake itself. A fake command prints a given text;
# each case writes a spec as pd_expect() does, runs expect.cmake on it, and
# checks the verdict: a near miss must FAIL and name the check it missed,
# the exact text must pass. These are the near misses the old helper let
# through (' | ' read as alternation, ';' splitting one pattern in two).
cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/expect_spec.cmake)
set(EXPECT ${CMAKE_CURRENT_LIST_DIR}/expect.cmake)
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
set(ncases 0)
set(errors "")

# pd_case(NAME PASS|FAIL OUTPUT text [REPORT text] SPEC spec-args...):
# the fake command prints OUTPUT (cat of a file, exit 0 unless the spec
# says CMD itself); with FAIL, expect.cmake's report must contain REPORT.
function(pd_case name verdict)
  cmake_parse_arguments(PARSE_ARGV 2 C "" "OUTPUT;REPORT" "SPEC")
  set(txt ${DIR}/${name}.txt)
  set(spec ${DIR}/${name}.spec.cmake)
  file(WRITE ${txt} "${C_OUTPUT}")
  if("CMD" IN_LIST C_SPEC)
    pd_expect_spec(${name} ${spec} ${C_SPEC})
  else()
    pd_expect_spec(${name} ${spec} CMD ${CMAKE_COMMAND} -E cat ${txt}
                   ${C_SPEC})
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -DSPEC=${spec} -P ${EXPECT}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(err "")
  if(verdict STREQUAL "PASS" AND NOT rc EQUAL 0)
    set(err "${name}: expected a pass, expect.cmake failed:\n${out}")
  elseif(verdict STREQUAL "FAIL")
    string(FIND "${out}" "${C_REPORT}" pos)
    if(rc EQUAL 0)
      set(err "${name}: a near miss PASSED:\n${out}")
    elseif(pos EQUAL -1)
      set(err "${name}: failed, but without '${C_REPORT}':\n${out}")
    endif()
  endif()
  if(err)
    set(errors "${errors}${err}\n" PARENT_SCOPE)
  endif()
  math(EXPR n "${ncases} + 1")
  set(ncases ${n} PARENT_SCOPE)
endfunction()

set(BOOM "12:00:00.000 | ERROR   | boom-0 | Finished in state Failed('boom 7')\n")
set(BOOM_MISS "12:00:00.000 | ERROR   | boom-0 | Finished in state Failed('')\n")
set(FLAKY "12:00:00.000 | WARNING | flaky-0 | attempt 1 failed: attempt 1: not yet; retry 1/2 in 0.05 s\n")
set(FLAKY_MISS "12:00:00.000 | WARNING | flaky-0 | attempt 1 failed: (null); retry 1/2 in 0.05 s\nattempt 1: not yet\n")

# The scheduler.c:64 mutant: the message is gone, "boom-0 " is still there.
pd_case(has_exact PASS OUTPUT "${BOOM}"
  SPEC HAS "boom-0 | Finished in state Failed('boom 7')")
pd_case(has_near_miss FAIL OUTPUT "${BOOM_MISS}"
  REPORT "output does not contain: boom-0 | Finished in state Failed('boom 7')"
  SPEC HAS "boom-0 | Finished in state Failed('boom 7')")
pd_case(match_bar_near_miss FAIL OUTPUT "${BOOM_MISS}"
  REPORT "output does not match the regex: boom-0 [|] Finished"
  SPEC MATCH "boom-0 [|] Finished in state Failed[(]'boom 7'[)]")
pd_case(match_bar_exact PASS OUTPUT "${BOOM}"
  SPEC MATCH "boom-0 [|] Finished in state Failed[(]'boom 7'[)]")
# The worker.c:353 mutant: the reason is gone, both halves still appear.
pd_case(semicolon_exact PASS OUTPUT "${FLAKY}"
  SPEC HAS "flaky-0 | attempt 1 failed: attempt 1: not yet; retry 1/2 in 0.05 s")
pd_case(semicolon_near_miss FAIL OUTPUT "${FLAKY_MISS}"
  REPORT "output does not contain: flaky-0 | attempt 1 failed: attempt 1: not yet; retry 1/2"
  SPEC HAS "flaky-0 | attempt 1 failed: attempt 1: not yet; retry 1/2")
pd_case(semicolon_regex_near_miss FAIL OUTPUT "${FLAKY_MISS}"
  REPORT "output does not match the regex: attempt 1: not yet; retry 1/2"
  SPEC MATCH "attempt 1: not yet; retry 1/2")
# Literal text that is not a valid regex.
pd_case(has_unbalanced PASS OUTPUT "${BOOM}"
  SPEC HAS "boom-0 | Finished in state Failed('boom" HASNOT "[(")
# HASNOT, NOMATCH and COUNT.
pd_case(hasnot_present FAIL OUTPUT "${BOOM}"
  REPORT "output contains what it must not: boom-0 | Finished"
  SPEC HASNOT "boom-0 | Finished")
pd_case(hasnot_absent PASS OUTPUT "${BOOM}" SPEC HASNOT "boom-1 | Finished")
pd_case(nomatch_present FAIL OUTPUT "${BOOM}"
  REPORT "output matches the regex it must not: Failed[(]'boom [0-9]'"
  SPEC NOMATCH "Failed[(]'boom [0-9]'")
pd_case(count_exact PASS OUTPUT "${FLAKY}${FLAKY}${BOOM}"
  SPEC COUNT 2 "not yet; retry 1/2" COUNT 1 "boom 7" COUNT 0 "boom 8")
pd_case(count_more FAIL OUTPUT "${FLAKY}${FLAKY}${FLAKY}"
  REPORT "output contains 3 times, expected 2: not yet; retry 1/2"
  SPEC COUNT 2 "not yet; retry 1/2")
# Exit code and time.
pd_case(rc_wrong FAIL OUTPUT "${BOOM}" REPORT "exit code 0, expected 1"
  SPEC RC 1 HAS "boom 7")
pd_case(too_fast FAIL REPORT "less than 1.5 s"
  SPEC CMD ${CMAKE_COMMAND} -E sleep 0.5 MIN_SECONDS 1.5)
pd_case(slow_enough PASS SPEC CMD ${CMAKE_COMMAND} -E sleep 0.3 MIN_SECONDS 0.25)
pd_case(too_slow FAIL REPORT "more than 0.2 s"
  SPEC CMD ${CMAKE_COMMAND} -E sleep 0.5 MIN_SECONDS 0.1 MAX_SECONDS 0.2)

# The writer refuses a regex with ' | ' (the flaw this helper fixes).
file(WRITE ${DIR}/lint.cmake "include(${CMAKE_CURRENT_LIST_DIR}/expect_spec.cmake)
pd_expect_spec(lint ${DIR}/lint.spec.cmake CMD true MATCH \"boom-0 | Finished\")\n")
execute_process(COMMAND ${CMAKE_COMMAND} -P ${DIR}/lint.cmake
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REGEX REPLACE "[ \n]+" " " out "${out}")
if(rc EQUAL 0 OR NOT out MATCHES "' [|] ' in a regex is alternation")
  string(APPEND errors "lint: MATCH \"boom-0 | Finished\" was not refused:\n${out}\n")
endif()
math(EXPR ncases "${ncases} + 1")

if(errors)
  message(FATAL_ERROR "expect helper: ${errors}")
endif()
message("expect helper: ${ncases} cases ok")
