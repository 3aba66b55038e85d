# Run by cpack after it built the packages (CPACK_POST_BUILD_SCRIPTS): makes the
# repwatch-dbgsym .ddeb that CPack's DEB generator writes (CPACK_DEBIAN_DEBUGINFO_PACKAGE) what
# debhelper's dh_strip would have written, which CMake 3.25 does not:
#   - md5sums with paths relative to the root (CPack writes its staging directory's absolute
#     paths, which debsums and lintian reject);
#   - the debug files 0644 and their DWARF compressed (--compress-debug-sections, as dh_strip;
#     the linker already did, see CMakeLists.txt), so the package is gzip'ed (xz would take
#     many times as long for nothing);
#   - /usr/share/doc/repwatch-dbgsym a symlink to repwatch's (copyright, changelog), which
#     the package's Depends: repwatch (= version) makes sound;
#   - Installed-Size recomputed.
# CPACK_PACKAGE_FILES lists the files cpack wrote.
find_program(_dpkg_deb dpkg-deb REQUIRED)
find_program(_objcopy objcopy REQUIRED)
foreach(_package IN LISTS CPACK_PACKAGE_FILES)
  if(NOT _package MATCHES "-dbgsym_[^/]*\\.ddeb$")
    continue()
  endif()
  set(_tree "${_package}.tree")
  file(REMOVE_RECURSE "${_tree}")
  execute_process(COMMAND "${_dpkg_deb}" --raw-extract "${_package}" "${_tree}"
                  COMMAND_ERROR_IS_FATAL ANY)
  file(STRINGS "${_tree}/DEBIAN/control" _name REGEX "^Package: ")
  string(REGEX REPLACE "^Package: (.*)-dbgsym$" "\\1" _main "${_name}")

  file(GLOB_RECURSE _debug_files LIST_DIRECTORIES false "${_tree}/usr/lib/debug/*")
  set(_md5sums "")
  set(_bytes 0)
  foreach(_file IN LISTS _debug_files)
    execute_process(COMMAND "${_objcopy}" --compress-debug-sections "${_file}"
                    COMMAND_ERROR_IS_FATAL ANY)
    file(CHMOD "${_file}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    file(MD5 "${_file}" _sum)
    file(RELATIVE_PATH _relative "${_tree}" "${_file}")
    string(APPEND _md5sums "${_sum}  ${_relative}\n")
    file(SIZE "${_file}" _size)
    math(EXPR _bytes "${_bytes} + ${_size}")
  endforeach()
  file(WRITE "${_tree}/DEBIAN/md5sums" "${_md5sums}")
  file(CHMOD "${_tree}/DEBIAN/md5sums" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

  file(MAKE_DIRECTORY "${_tree}/usr/share/doc")
  file(CREATE_LINK "${_main}" "${_tree}/usr/share/doc/${_main}-dbgsym" SYMBOLIC)

  math(EXPR _kib "(${_bytes} + 1023) / 1024")
  file(READ "${_tree}/DEBIAN/control" _control)
  string(REGEX REPLACE "Installed-Size: [0-9]+" "Installed-Size: ${_kib}" _control "${_control}")
  file(WRITE "${_tree}/DEBIAN/control" "${_control}")

  execute_process(COMMAND "${_dpkg_deb}" --root-owner-group -Zgzip --build "${_tree}" "${_package}"
                  OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
  file(REMOVE_RECURSE "${_tree}")
  message(STATUS "repwatch: ${_package}: md5sums, modes, compressed DWARF and doc link fixed")
endforeach()
