# CheckLayers.cmake - do the folders depend only downward, and does CMake say the same?
#
#   cmake -DROOT=<source dir> -DLAYERS=<build dir>/layers.cmake -P cmake/CheckLayers.cmake
#
# LAYERS (written by the top-level CMakeLists.txt) sets REPWATCH_LAYERS, the modules in the
# order of the data flow, and for each module M the modules rw_M links (REPWATCH_LINKS_M,
# without the rw_ prefix). For every module folder - its library and its program (main.cpp) -
# this reads each `#include "FOLDER/..."` of its .h and .cpp files and fails, naming the file
# and what to do, when a folder
#   - includes a folder that comes later in the order (or one that is no module: tests/...),
#   - includes a module its library does not link, or
#   - links a module it includes nothing from.
# Run by CTest as the test `layers` (tests/CMakeLists.txt); docs/architecture.md has the graph.
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED ROOT OR NOT DEFINED LAYERS)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> -DLAYERS=<layers.cmake> -P CheckLayers.cmake")
endif()
include(${LAYERS})

set(problems "")
set(index 0)
foreach(module IN LISTS REPWATCH_LAYERS)
  set(included "")
  file(GLOB_RECURSE sources LIST_DIRECTORIES false RELATIVE ${ROOT} ${ROOT}/${module}/*.h
       ${ROOT}/${module}/*.cpp)
  list(SORT sources)
  foreach(source IN LISTS sources)
    file(STRINGS ${ROOT}/${source} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"/]+/")
    foreach(line IN LISTS lines)
      string(REGEX MATCH "\"([^\"/]+)/([^\"]*)\"" header "${line}")
      set(folder ${CMAKE_MATCH_1})
      set(path "${CMAKE_MATCH_1}/${CMAKE_MATCH_2}")
      if(folder STREQUAL module OR NOT IS_DIRECTORY ${ROOT}/${folder})
        continue()  # its own folder, or a system header written with quotes
      endif()
      list(FIND REPWATCH_LAYERS ${folder} at)
      if(at EQUAL -1)
        string(APPEND problems "  ${source} includes \"${path}\": ${folder}/ is not a module; "
               "nothing in ${module}/ may depend on it\n")
      elseif(at GREATER index)
        string(APPEND problems "  ${source} includes \"${path}\": ${folder}/ comes after "
               "${module}/ in the data flow; move what ${module}/ needs down into ${module}/ or "
               "a folder before it\n")
      else()
        list(FIND REPWATCH_LINKS_${module} ${folder} linked)
        if(linked EQUAL -1)
          string(APPEND problems "  ${source} includes \"${path}\", but rw_${module} does not "
                 "link rw_${folder}: add it to repwatch_module(${module} ...) in "
                 "${module}/CMakeLists.txt\n")
        endif()
      endif()
      list(APPEND included ${folder})
    endforeach()
  endforeach()
  foreach(linked IN LISTS REPWATCH_LINKS_${module})
    list(FIND included ${linked} used)
    if(used EQUAL -1)
      string(APPEND problems "  rw_${module} links rw_${linked}, but nothing in ${module}/ "
             "includes ${linked}/: drop it from repwatch_module(${module} ...) in "
             "${module}/CMakeLists.txt\n")
    endif()
  endforeach()
  math(EXPR index "${index} + 1")
endforeach()

list(JOIN REPWATCH_LAYERS " -> " order)
if(problems)
  message(FATAL_ERROR "The folders must depend only downward, in the order\n  ${order}\n"
          "each module linking exactly the modules it includes (docs/architecture.md):\n"
          "${problems}")
endif()
message(STATUS "layers ok: ${order}")
