# Packaging: what `cmake --install` puts where, and the Debian package (cpack -G DEB).
#
#   cmake --install build --prefix /usr        # or the default /usr/local
#     <prefix>/sbin/repwatchd, <prefix>/bin/repwatch
#     <prefix>/lib/systemd/system/repwatchd.service   (ExecStart and --config point at the
#                                                      installed binary and config file)
#     <sysconfdir>/repwatch/repwatch.toml        the example config, mode 0640; never
#                                                 replaced once it exists (edited by the admin)
#     <prefix>/share/repwatch/{repwatch.example.toml,taxonomy.toml,lexicon.tsv,reply_terms.toml}
#     <prefix>/share/doc/repwatch/README.md
#   where <sysconfdir> is /etc for the /usr prefix and <prefix>/etc otherwise (GNUInstallDirs
#   rules, evaluated at install time, so that cpack's /usr prefix gives /etc).
#
#   cpack -G DEB --config build/CPackConfig.cmake
#     repwatch_<version>_<arch>.deb with /etc/repwatch/repwatch.toml as a conffile (dpkg never
#     overwrites an edited one), and maintainer scripts (packaging/debian/) that create the
#     system user and group `repwatch`, the state directory /var/lib/repwatch (0750) and give
#     the config to root:repwatch 0640.

set(REPWATCH_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging/debian)

# Data files that ship with the program.
install(FILES ${PROJECT_SOURCE_DIR}/sentiment/taxonomy.toml ${PROJECT_SOURCE_DIR}/sentiment/lexicon.tsv
              ${PROJECT_SOURCE_DIR}/replies/reply_terms.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/repwatch OPTIONAL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)

# The unit and the live config: their paths depend on the prefix in effect at install time.
install(CODE "set(_unit_source \"${PROJECT_SOURCE_DIR}/systemd/repwatchd.service\")
set(_config_source \"${PROJECT_SOURCE_DIR}/config/repwatch.example.toml\")" ALL_COMPONENTS)
install(CODE [[
  set(_prefix "${CMAKE_INSTALL_PREFIX}")
  if(_prefix STREQUAL "/usr")
    set(_etc "/etc")
  elseif(_prefix MATCHES "^/opt/")
    set(_etc "/etc${_prefix}")
  else()
    set(_etc "${_prefix}/etc")
  endif()
  set(_dest "$ENV{DESTDIR}")

  # The unit, with the installed paths of the binary and the config file.
  file(READ "${_unit_source}" _unit)
  string(REPLACE "/usr/sbin/repwatchd" "${_prefix}/sbin/repwatchd" _unit "${_unit}")
  string(REPLACE "/etc/repwatch/repwatch.toml" "${_etc}/repwatch/repwatch.toml" _unit "${_unit}")
  set(_unit_dir "${_dest}${_prefix}/lib/systemd/system")
  file(MAKE_DIRECTORY "${_unit_dir}")
  message(STATUS "Installing: ${_unit_dir}/repwatchd.service")
  file(WRITE "${_unit_dir}/repwatchd.service" "${_unit}")
  file(CHMOD "${_unit_dir}/repwatchd.service" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

  # The live config: the example, unless the admin already has one.
  set(_conf "${_dest}${_etc}/repwatch/repwatch.toml")
  if(EXISTS "${_conf}")
    message(STATUS "Keeping: ${_conf} (exists)")
  else()
    file(MAKE_DIRECTORY "${_dest}${_etc}/repwatch")
    message(STATUS "Installing: ${_conf}")
    file(COPY_FILE "${_config_source}" "${_conf}")
    file(CHMOD "${_conf}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
  endif()
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${_unit_dir}/repwatchd.service" "${_conf}")
]] ALL_COMPONENTS)

# ---- Debian package ------------------------------------------------------------------------
set(CPACK_PACKAGE_NAME repwatch)
set(CPACK_PACKAGE_VENDOR "repwatch")
set(CPACK_PACKAGE_CONTACT "repwatch maintainers <repwatch@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "online-reputation monitor for healthcare practices (daemon and CLI)")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
# Install with DESTDIR and the real prefix, so the install code above sees /usr and puts the
# config in /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
# Library dependencies from dpkg-shlibdeps (package dpkg-dev) when present, else Debian 12's.
find_program(REPWATCH_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(REPWATCH_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "adduser, libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1, libcurl4, libsqlite3-0, libsystemd0, libspdlog1.10-fmt9, libfmt9, libtomlplusplus3")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "repwatch polls review sites and export files for a clinic's locations, scores each
review's sentiment per touchpoint of the patient journey, stores everything in SQLite and
emails marketing staff about new negative reviews. repwatchd runs as a hardened systemd
service; repwatch is the managers' command-line tool for trends and reports.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${REPWATCH_PACKAGING_DIR}/conffiles ${REPWATCH_PACKAGING_DIR}/postinst
    ${REPWATCH_PACKAGING_DIR}/prerm ${REPWATCH_PACKAGING_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
