# Hardening: the flags Debian's dpkg-buildflags gives a package (hardening=+all), for every
# build, so that a plain `cmake -DCMAKE_BUILD_TYPE=Release` makes binaries as hardened as the
# .deb's (check with `hardening-check build/daemon/repwatchd`, package devscripts):
#   -fstack-protector-strong    stack canaries
#   -D_FORTIFY_SOURCE=2         checked string and memory functions (optimized builds only:
#                               it needs -O, and warns without it)
#   -Wformat -Werror=format-security
#   -fstack-clash-protection    guard pages cannot be jumped over (Debian 13 adds it too)
#   PIE (-fPIE, -pie)           a randomized executable address
#   -Wl,-z,relro -Wl,-z,now     read-only relocations, bound at start
#   -Wl,--build-id              the id the split debug symbols are filed under
# -DREPWATCH_HARDENING=OFF turns them off; sanitizer builds do without them.
option(REPWATCH_HARDENING "Build with Debian's hardening flags" ON)

if(REPWATCH_HARDENING AND NOT REPWATCH_SANITIZE)
  include(CheckPIESupported)
  check_pie_supported(LANGUAGES CXX)
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  # Not -fcf-protection: Debian 12's C runtime objects carry no IBT/SHSTK note, so the linked
  # binary would not be marked for control-flow enforcement anyway.
  add_compile_options(-fstack-protector-strong -Wformat -Werror=format-security
                      -fstack-clash-protection)
  # dpkg-buildflags passes its own (CPPFLAGS folded into CXXFLAGS): do not define it twice.
  if(NOT CMAKE_CXX_FLAGS MATCHES "_FORTIFY_SOURCE")
    add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
  endif()
  add_link_options(LINKER:-z,relro LINKER:-z,now LINKER:--build-id)
endif()
