# cmake -DSPEC=FILE -P expect.cmake
#
# Runs the command a spec file names, then checks its exit code, its
# combined stdout+stderr and its wall time. pd_expect() in CMakeLists.txt
# writes one spec per test with pd_expect_write_spec() (expect_spec.cmake);
# every argument and pattern is a bracket argument there, so ';' and '|'
# arrive exactly as written.
#
# A spec sets PD_CMD (the command, one bracket argument per word), PD_RC,
# PD_MIN_SECONDS, PD_MAX_SECONDS, and calls pd_check() once per check:
#   pd_check(MATCH re)      the output matches the regex re
#   pd_check(NOMATCH re)    it does not
#   pd_check(HAS text)      the output contains text, byte for byte
#   pd_check(HASNOT text)   it does not
#   pd_check(COUNT n text)  text occurs exactly n times (not overlapping)
cmake_minimum_required(VERSION 3.20)
if(NOT SPEC)
  message(FATAL_ERROR "usage: cmake -DSPEC=FILE -P expect.cmake")
endif()

set(pd_nchecks 0)
# Records one check; they are evaluated once the command has run.
function(pd_check kind)
  set(i ${pd_nchecks})
  if(kind STREQUAL "COUNT")
    if(NOT ARGC EQUAL 3 OR NOT ARGV1 MATCHES "^[0-9]+$")
      message(FATAL_ERROR "pd_check(COUNT n text): got ${ARGC} arguments")
    endif()
    set(pd_check_${i}_n "${ARGV1}" PARENT_SCOPE)
    set(pd_check_${i}_text "${ARGV2}" PARENT_SCOPE)
  elseif(kind MATCHES "^(NO)?MATCH$|^HAS(NOT)?$" AND ARGC EQUAL 2)
    set(pd_check_${i}_text "${ARGV1}" PARENT_SCOPE)
  else()
    message(FATAL_ERROR "pd_check: bad check ${kind} (${ARGC} arguments)")
  endif()
  set(pd_check_${i}_kind ${kind} PARENT_SCOPE)
  math(EXPR i "${i} + 1")
  set(pd_nchecks ${i} PARENT_SCOPE)
endfunction()

# "1.25" -> 1250 (milliseconds) in out.
function(pd_to_ms s out)
  if(NOT s MATCHES "^([0-9]+)([.]([0-9]*))?$")
    message(FATAL_ERROR "not a number of seconds: '${s}'")
  endif()
  set(whole ${CMAKE_MATCH_1})
  string(SUBSTRING "${CMAKE_MATCH_3}000" 0 3 frac)
  math(EXPR ms "${whole} * 1000 + 1${frac} - 1000")
  set(${out} ${ms} PARENT_SCOPE)
endfunction()

# How many times text occurs in out, not overlapping.
function(pd_count out text result)
  set(n 0)
  string(LENGTH "${text}" len)
  if(len EQUAL 0)
    message(FATAL_ERROR "pd_check(COUNT): empty text")
  endif()
  string(FIND "${out}" "${text}" pos)
  while(pos GREATER -1)
    math(EXPR n "${n} + 1")
    math(EXPR pos "${pos} + ${len}")
    string(SUBSTRING "${out}" ${pos} -1 out)
    string(FIND "${out}" "${text}" pos)
  endwhile()
  set(${result} ${n} PARENT_SCOPE)
endfunction()

include(${SPEC})
if(NOT DEFINED PD_CMD OR NOT DEFINED PD_RC)
  message(FATAL_ERROR "${SPEC} sets no PD_CMD or PD_RC")
endif()

string(TIMESTAMP t0 "%s%f")
execute_process(COMMAND ${PD_CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE out)
string(TIMESTAMP t1 "%s%f")
math(EXPR ms "(${t1} - ${t0}) / 1000")
message("${out}")
message("-- exit code ${rc}, ${ms} ms")

set(bad "")
if(NOT "${rc}" STREQUAL "${PD_RC}")
  string(APPEND bad "exit code ${rc}, expected ${PD_RC}\n")
endif()
if(pd_nchecks GREATER 0)
  math(EXPR last "${pd_nchecks} - 1")
  foreach(i RANGE ${last})
    set(kind ${pd_check_${i}_kind})
    set(text "${pd_check_${i}_text}")
    # Nested ifs: if() compiles every regex in its condition.
    if(kind STREQUAL "MATCH")
      if(NOT out MATCHES "${text}")
        string(APPEND bad "output does not match the regex: ${text}\n")
      endif()
    elseif(kind STREQUAL "NOMATCH")
      if(out MATCHES "${text}")
        string(APPEND bad "output matches the regex it must not: ${text}\n")
      endif()
    elseif(kind MATCHES "^HAS")
      string(FIND "${out}" "${text}" pos)
      if(kind STREQUAL "HAS" AND pos EQUAL -1)
        string(APPEND bad "output does not contain: ${text}\n")
      elseif(kind STREQUAL "HASNOT" AND pos GREATER -1)
        string(APPEND bad "output contains what it must not: ${text}\n")
      endif()
    elseif(kind STREQUAL "COUNT")
      pd_count("${out}" "${text}" n)
      if(NOT n EQUAL pd_check_${i}_n)
        string(APPEND bad "output contains ${n} times, expected "
               "${pd_check_${i}_n}: ${text}\n")
      endif()
    endif()
  endforeach()
endif()
if(PD_MAX_SECONDS)
  pd_to_ms(${PD_MAX_SECONDS} limit)
  if(ms GREATER limit)
    string(APPEND bad "took ${ms} ms, more than ${PD_MAX_SECONDS} s\n")
  endif()
endif()
if(PD_MIN_SECONDS)
  pd_to_ms(${PD_MIN_SECONDS} limit)
  if(ms LESS limit)
    string(APPEND bad "took ${ms} ms, less than ${PD_MIN_SECONDS} s\n")
  endif()
endif()
if(bad)
  # Unwrapped, so a pattern reads (and greps) as written.
  message("-- FAILED:\n${bad}")
  message(FATAL_ERROR "expect.cmake: the checks above failed")
endif()
