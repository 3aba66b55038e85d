// Installation: `cmake --install` and the Debian package (cpack -G DEB) put the binaries, the
// unit, the config and the data files in their FHS places; the unit passes
// `systemd-analyze verify` and rates 2.0 or better in `systemd-analyze security`.
//
// Uses the build tree this test was built in (REPWATCH_BINARY_DIR): run it after a full build.
// Tools: cpack and cmake (cmake), dpkg-deb (dpkg), dpkg-shlibdeps (dpkg-dev, optional),
// systemd-analyze (systemd; the unit checks are skipped without it).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <regex>
#include <string>

#include "tests/fixtures/daemon/daemon_harness.h"

namespace repwatch::testing {
namespace {

// Runs a shell command, returns {exit code, stdout+stderr}.
std::pair<int, std::string> sh(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

bool have(const std::string& tool) { return sh("command -v " + tool).first == 0; }

fs::path bin_dir() { return fs::path(REPWATCH_BINARY_DIR); }

bool cli_built() { return fs::exists(bin_dir() / "cli" / "repwatch"); }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

// `systemd-analyze verify` in a scratch root that holds the unit's binaries.
void expect_unit_verifies(const fs::path& root, const fs::path& unit) {
  // ExecReload= runs /bin/kill (procps), which the scratch root does not have: verify checks
  // only that it is there and executable.
  if (!fs::exists(root / "bin" / "kill")) write_file(root / "bin" / "kill", "#!/bin/sh\n", 0755);
  auto [rc, out] =
      sh("systemd-analyze verify --recursive-errors=no --man=no --root=" + q(root) + " " + q(unit));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("Unknown"), std::string::npos) << out;
  EXPECT_EQ(out.find("not executable"), std::string::npos) << out;
}

// The "Overall exposure level" of `systemd-analyze security --offline=yes`.
double exposure(const fs::path& unit) {
  auto [rc, out] = sh("cd " + q(unit.parent_path()) +
                      " && systemd-analyze security --offline=yes --no-pager " + q(unit));
  std::smatch m;
  static const std::regex re(R"(Overall exposure level for \S+: ([0-9.]+))");
  if (!std::regex_search(out, m, re)) {
    ADD_FAILURE() << "no exposure level in:\n" << out;
    return 99;
  }
  return std::stod(m[1]);
}

TEST(DaemonPackage, DebHoldsEverythingInItsPlaceAndTheUnitVerifies) {
  if (!have("cpack") || !have("dpkg-deb")) GTEST_SKIP() << "cpack or dpkg-deb missing";
  ASSERT_TRUE(fs::exists(bin_dir() / "CPackConfig.cmake")) << "configure the build first";
  TempDir dir;
  // What cpack's own install step does (CPACK_SET_DESTDIR: DESTDIR plus the /usr prefix), done
  // by hand so that cpack does not first build the `preinstall` target (= everything) in a
  // tree other tests are running from.
  auto [irc, iout] = sh("DESTDIR=" + q(dir.path / "stage") + " cmake --install " + q(bin_dir()) +
                        " --prefix /usr --strip");
  ASSERT_EQ(irc, 0) << iout;
  auto [rc, out] = sh("cpack -G DEB -B " + q(dir.path / "out") + " --config " +
                      q(bin_dir() / "CPackConfig.cmake") +
                      " -D CPACK_INSTALL_CMAKE_PROJECTS= -D CPACK_INSTALLED_DIRECTORIES=" +
                      q(dir.path.string() + "/stage;/"));
  ASSERT_EQ(rc, 0) << out;
  fs::path deb;
  for (auto& e : fs::directory_iterator(dir.path / "out")) {
    if (e.path().extension() == ".deb") deb = e.path();
  }
  ASSERT_FALSE(deb.empty()) << out;
  EXPECT_NE(deb.filename().string().find("repwatch_"), std::string::npos) << deb;

  // Control: the conffile, the maintainer scripts, the dependencies.
  fs::path control = dir.path / "control";
  auto [erc, eout] = sh("dpkg-deb -e " + q(deb) + " " + q(control));
  ASSERT_EQ(erc, 0) << eout;
  EXPECT_EQ(read_file(control / "conffiles"), "/etc/repwatch/repwatch.toml\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    ASSERT_TRUE(fs::exists(control / script)) << script;
    EXPECT_EQ(mode_of(control / script) & 0111, 0111u) << script << " must be executable";
    auto [src, sout] = sh("sh -n " + q(control / script));
    EXPECT_EQ(src, 0) << script << ": " << sout;
  }
  std::string postinst = read_file(control / "postinst");
  EXPECT_NE(postinst.find("adduser --system"), std::string::npos);
  EXPECT_NE(postinst.find("/var/lib/repwatch"), std::string::npos);
  EXPECT_NE(postinst.find("chmod 0640 /etc/repwatch/repwatch.toml"), std::string::npos);
  std::string fields = read_file(control / "control");
  EXPECT_NE(fields.find("Package: repwatch"), std::string::npos) << fields;
  EXPECT_NE(fields.find("adduser"), std::string::npos) << fields;
  EXPECT_NE(fields.find("libsqlite3"), std::string::npos) << fields;

  // Files, in their FHS places.
  fs::path root = dir.path / "root";
  auto [xrc, xout] = sh("dpkg -x " + q(deb) + " " + q(root));
  ASSERT_EQ(xrc, 0) << xout;
  EXPECT_TRUE(fs::exists(root / "usr/sbin/repwatchd"));
  EXPECT_EQ(mode_of(root / "usr/sbin/repwatchd") & 0111, 0111u);
  if (cli_built()) {
    EXPECT_TRUE(fs::exists(root / "usr/bin/repwatch"));
  }
  fs::path unit = root / "usr/lib/systemd/system/repwatchd.service";
  ASSERT_TRUE(fs::exists(unit));
  EXPECT_TRUE(fs::exists(root / "etc/repwatch/repwatch.toml"));
  EXPECT_EQ(mode_of(root / "etc/repwatch/repwatch.toml"), 0640u);
  EXPECT_TRUE(fs::exists(root / "usr/share/repwatch/repwatch.example.toml"));
  EXPECT_TRUE(fs::exists(root / "usr/share/repwatch/taxonomy.toml"));
  EXPECT_TRUE(fs::exists(root / "usr/share/repwatch/reply_terms.toml"));
  EXPECT_TRUE(fs::exists(root / "usr/share/doc/repwatch/README.md"));
  EXPECT_FALSE(fs::exists(root / "usr/etc")) << "config must go to /etc, not /usr/etc";
  EXPECT_FALSE(fs::exists(root / "usr/local"));

  std::string unit_text = read_file(unit);
  EXPECT_NE(unit_text.find("ExecStart=/usr/sbin/repwatchd --config /etc/repwatch/repwatch.toml"),
            std::string::npos)
      << unit_text;
  EXPECT_NE(unit_text.find("Type=notify"), std::string::npos);
  EXPECT_NE(unit_text.find("User=repwatch"), std::string::npos);

  // The packaged binary runs and accepts the packaged config.
  auto [vrc, vout] = sh(q(root / "usr/sbin/repwatchd") + " --version");
  EXPECT_EQ(vrc, 0) << vout;
  auto [crc, cout] = sh(q(root / "usr/sbin/repwatchd") + " --check-config --config " +
                        q(root / "etc/repwatch/repwatch.toml"));
  EXPECT_EQ(crc, 0) << cout;

  if (!have("systemd-analyze")) GTEST_SKIP() << "systemd-analyze missing (package systemd)";
  expect_unit_verifies(root, unit);
  double level = exposure(unit);
  EXPECT_LE(level, 2.0) << "systemd-analyze security must rate the unit OK or better";
  std::printf("systemd-analyze security exposure of the packaged unit: %.1f\n", level);
}

TEST(DaemonPackage, CmakeInstallUsesThePrefixAndKeepsAnEditedConfig) {
  TempDir dir;
  fs::path prefix = dir.path / "local";
  auto install = [&] { return sh("cmake --install " + q(bin_dir()) + " --prefix " + q(prefix)); };
  auto [rc, out] = install();
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(fs::exists(prefix / "sbin/repwatchd"));
  fs::path unit = prefix / "lib/systemd/system/repwatchd.service";
  fs::path conf = prefix / "etc/repwatch/repwatch.toml";
  ASSERT_TRUE(fs::exists(unit)) << out;
  ASSERT_TRUE(fs::exists(conf)) << out;
  EXPECT_EQ(mode_of(conf), 0640u);
  std::string unit_text = read_file(unit);
  EXPECT_NE(unit_text.find("ExecStart=" + (prefix / "sbin/repwatchd").string() + " --config " +
                           conf.string()),
            std::string::npos)
      << unit_text;

  // An admin's edit survives a reinstall (an upgrade by `cmake --install`).
  write_file(conf, read_file(conf) + "\n# edited by the admin\n", 0640);
  auto [rc2, out2] = install();
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_NE(read_file(conf).find("# edited by the admin"), std::string::npos);

  // With the /usr prefix (and DESTDIR), the config goes to /etc like the package's.
  auto [rc3, out3] = sh("DESTDIR=" + q(dir.path / "stage") + " cmake --install " + q(bin_dir()) +
                        " --prefix /usr");
  ASSERT_EQ(rc3, 0) << out3;
  EXPECT_TRUE(fs::exists(dir.path / "stage/etc/repwatch/repwatch.toml")) << out3;
  EXPECT_TRUE(fs::exists(dir.path / "stage/usr/lib/systemd/system/repwatchd.service"));
  if (have("systemd-analyze")) {
    expect_unit_verifies(dir.path / "stage",
                         dir.path / "stage/usr/lib/systemd/system/repwatchd.service");
  }
}

}  // namespace
}  // namespace repwatch::testing
