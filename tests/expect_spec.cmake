# Writes the spec files that tests/expect.cmake runs and checks.
#
# A pattern reaches expect.cmake as a bracket argument in a file, never
# through a -D list, so ';' and '|' mean what they say: HAS "a; b | c" is
# that text, byte for byte. Used by pd_expect() (tests/CMakeLists.txt) and
# by the helper's own test (expect_selftest.cmake).

# Sets out to text as a bracket argument [==[text]==] that text cannot end.
function(pd_bracket text out)
  set(eq "=")
  string(FIND "${text}" "]${eq}]" pos)
  while(pos GREATER -1)
    string(APPEND eq "=")
    string(FIND "${text}" "]${eq}]" pos)
  endwhile()
  set(${out} "[${eq}[${text}]${eq}]" PARENT_SCOPE)
endfunction()

# Writes the spec for test name to file from the variables <p>_CMD, <p>_RC,
# <p>_MIN_SECONDS, <p>_MAX_SECONDS, <p>_MATCH, <p>_NOMATCH, <p>_HAS,
# <p>_HASNOT and <p>_COUNT (pairs: n text) of the caller, as
# cmake_parse_arguments(PARSE_ARGV ...) leaves them. With GENERATE the file
# is written by file(GENERATE), so $<TARGET_FILE:...> in the command works.
function(pd_write_spec name file p mode)
  set(s "# pd_expect(${name}): generated, see tests/expect_spec.cmake\n")
  string(APPEND s "set(PD_CMD")
  foreach(w IN LISTS ${p}_CMD)
    pd_bracket("${w}" q)
    string(APPEND s "\n    ${q}")
  endforeach()
  string(APPEND s ")\nset(PD_RC \"${${p}_RC}\")\n")
  string(APPEND s "set(PD_MIN_SECONDS \"${${p}_MIN_SECONDS}\")\n")
  string(APPEND s "set(PD_MAX_SECONDS \"${${p}_MAX_SECONDS}\")\n")
  set(nchecks 0)
  foreach(kind MATCH NOMATCH HAS HASNOT)
    foreach(text IN LISTS ${p}_${kind})
      if(kind MATCHES "MATCH" AND text MATCHES " [|] ")
        message(FATAL_ERROR "pd_expect(${name}): ${kind} \"${text}\": ' | ' "
                "in a regex is alternation, not a bar: write [|], or use "
                "HAS/HASNOT for literal text")
      endif()
      if(mode STREQUAL "GENERATE" AND text MATCHES [[\$<]])
        message(FATAL_ERROR "pd_expect(${name}): \"${text}\": '$<' would be "
                "read as a generator expression")
      endif()
      pd_bracket("${text}" q)
      string(APPEND s "pd_check(${kind} ${q})\n")
      math(EXPR nchecks "${nchecks} + 1")
    endforeach()
  endforeach()
  set(n "")
  foreach(w IN LISTS ${p}_COUNT)
    if(n STREQUAL "")
      if(NOT w MATCHES "^[0-9]+$")
        message(FATAL_ERROR "pd_expect(${name}): COUNT takes pairs "
                "'n text', got '${w}' for n")
      endif()
      set(n ${w})
    else()
      pd_bracket("${w}" q)
      string(APPEND s "pd_check(COUNT ${n} ${q})\n")
      math(EXPR nchecks "${nchecks} + 1")
      set(n "")
    endif()
  endforeach()
  if(NOT n STREQUAL "")
    message(FATAL_ERROR "pd_expect(${name}): COUNT ${n} has no text")
  endif()
  if(nchecks EQUAL 0 AND NOT ${p}_MIN_SECONDS)
    message(FATAL_ERROR "pd_expect(${name}): no MATCH, HAS, COUNT or "
            "MIN_SECONDS: a test must check what its command printed")
  endif()
  if(mode STREQUAL "GENERATE")
    file(GENERATE OUTPUT "${file}" CONTENT "${s}")
  else()
    file(WRITE "${file}" "${s}")
  endif()
endfunction()

# pd_expect_spec(NAME FILE [RC n] [MIN_SECONDS s] [MAX_SECONDS s] CMD w...
#                [MATCH re...] [NOMATCH re...] [HAS text...] [HASNOT text...]
#                [COUNT n text ...]): the same spec, written at once (script
# mode, for the helper's own test).
function(pd_expect_spec name file)
  cmake_parse_arguments(PARSE_ARGV 2 S "" "RC;MIN_SECONDS;MAX_SECONDS"
                        "CMD;MATCH;NOMATCH;HAS;HASNOT;COUNT")
  if(NOT DEFINED S_RC)
    set(S_RC 0)
  endif()
  pd_write_spec(${name} ${file} S WRITE)
endfunction()
