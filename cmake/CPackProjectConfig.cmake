# Read by cpack before it installs the project (CPACK_PROJECT_CONFIG_FILE): the package's
# repwatch-dbgsym splits the debug symbols off the binaries itself, so the install code in
# cmake/Packaging.cmake must leave them in (it does when REPWATCH_CPACK is set).
set(ENV{REPWATCH_CPACK} 1)
