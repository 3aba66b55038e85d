# The `layers_check` test: cmake/CheckLayers.cmake run on a made-up tree
# (tests/fixtures/layers/) must fail and name each of its four mistakes - and nothing else:
# base/, which has none, is not named.
#
#   cmake -DCHECKER=cmake/CheckLayers.cmake -DFIXTURE=tests/fixtures/layers -P layers_check.cmake
cmake_minimum_required(VERSION 3.25)

execute_process(
  COMMAND ${CMAKE_COMMAND} -DROOT=${FIXTURE} -DLAYERS=${FIXTURE}/layers.cmake -P ${CHECKER}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX REPLACE "[ \t\r\n]+" " " said "${out}${err}")  # the message as one line
if(rc EQUAL 0)
  message(FATAL_ERROR "CheckLayers.cmake passed a tree with four mistakes:\n${out}${err}")
endif()
set(expected
    "rw_util links rw_base, but nothing in util/ includes base/"
    "mid/mid.h includes \"top/top.h\": top/ comes after mid/"
    "top/top.cpp includes \"mid/mid.h\", but rw_top does not link rw_mid"
    "top/top.cpp includes \"tools/tool.h\": tools/ is not a module"
    "base -> util -> mid -> top")
foreach(text IN LISTS expected)
  string(FIND "${said}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "CheckLayers.cmake did not say: ${text}\nIt said:\n${out}${err}")
  endif()
endforeach()
string(REGEX MATCHALL "(includes \"|links rw_)" named "${said}")
list(LENGTH named count)
if(NOT count EQUAL 4)
  message(FATAL_ERROR "CheckLayers.cmake named ${count} mistakes, not 4:\n${out}${err}")
endif()
message(STATUS "CheckLayers.cmake names each mistake of tests/fixtures/layers")
