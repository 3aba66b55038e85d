# Shared by scripts/demo and scripts/test: Debian dependencies and the build.
# Sourced, not run.

# Debian packages needed to build and run repwatch (python3 writes the manual pages).
REPWATCH_BUILD_DEPS=(
  build-essential cmake pkg-config ccache python3
  libcurl4-openssl-dev rapidjson-dev libsqlite3-dev libspdlog-dev libfmt-dev
  libtomlplusplus-dev libcli11-dev libsystemd-dev libgtest-dev sqlite3 ca-certificates
)
# Extra packages the test suite uses: a real SMTP server (aiosmtpd), headless Chromium for the
# HTML report, systemd-analyze for the unit, dpkg-deb/file/lintian/man for the package test.
REPWATCH_TEST_DEPS=(python3 python3-aiosmtpd chromium systemd dpkg-dev file openssl libclang-rt-14-dev
                    lintian man-db)

# ensure_packages PKG...: installs the missing ones with apt-get when root, otherwise prints
# the exact command and fails.
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "repwatch needs these Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
}

# build DIR [cmake args...]: configures and builds repwatch in DIR.
build() {
  local dir=$1
  shift
  echo "==> configuring and building in $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}
