// Installation: `cmake --install` and the Debian package (cpack -G DEB) put the binaries, the
// unit, the config, the manual pages and the data files in their FHS places; the package is
// lintian-clean, its binaries hardened as Debian builds them, its debug symbols in a separate
// repwatch-dbgsym package; its maintainer scripts create the directories with their modes,
// handle the unit as debhelper does and leave nothing behind on purge; the unit passes
// `systemd-analyze verify` and rates 2.0 or better in `systemd-analyze security`.
//
// Uses the build tree this test was built in (REPWATCH_BINARY_DIR): run it after a full build.
// Tools: cpack and cmake (cmake), dpkg-deb (dpkg), dpkg-shlibdeps (dpkg-dev, optional),
// readelf (binutils), systemd-analyze and systemctl (systemd; the unit checks are skipped
// without them), deb-systemd-helper (init-system-helpers), lintian and hardening-check
// (devscripts): checked when installed (scripts/test installs them).
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
fs::path source_dir() { return fs::path(REPWATCH_SOURCE_DIR); }

bool cli_built() { return fs::exists(bin_dir() / "cli" / "repwatch"); }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
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

// Hardening of an ELF executable as Debian builds it: PIE, full RELRO (relro + bind now), the
// stack protector and _FORTIFY_SOURCE's checked functions. hardening-check (devscripts) when
// installed, else the same facts from readelf.
void expect_hardened(const fs::path& binary) {
  SCOPED_TRACE(binary.string());
  if (have("hardening-check")) {
    // Control-flow protection (CET) cannot be had on Debian 12: its C runtime objects lack it.
    auto [rc, out] = sh("hardening-check --nocfprotection " + q(binary));
    EXPECT_EQ(rc, 0) << out;
    for (const char* line :
         {"Position Independent Executable: yes", "Stack protected: yes",
          "Fortify Source functions: yes", "Read-only relocations: yes", "Immediate binding: yes"})
      EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
    std::printf("%s", out.c_str());
  }
  auto [rc, out] = sh("readelf -W -h -l -d --dyn-syms " + q(binary));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("DYN (Position-Independent Executable file)"), std::string::npos) << "PIE";
  EXPECT_NE(out.find("GNU_RELRO"), std::string::npos) << "RELRO";
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(\(FLAGS(_1)?\)\s+.*\bNOW\b)"))) << "BIND_NOW";
  EXPECT_NE(out.find("__stack_chk_fail"), std::string::npos) << "stack protector";
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(__\w+_chk\b)"))) << "_FORTIFY_SOURCE";
}

// The .deb (and its -dbgsym .ddeb) built from this build tree, in `dir`.
struct Package {
  fs::path deb, ddeb;
};

Package build_package(const fs::path& dir) {
  // What cpack's own install step does (CPACK_SET_DESTDIR: DESTDIR plus the /usr prefix), done
  // by hand so that cpack does not first build the `preinstall` target (= everything) in a
  // tree other tests are running from. REPWATCH_CPACK leaves the debug symbols in the binaries
  // for cpack's dbgsym package, as cpack's own install does (cmake/CPackProjectConfig.cmake).
  auto [irc, iout] = sh("REPWATCH_CPACK=1 DESTDIR=" + q(dir / "stage") + " cmake --install " +
                        q(bin_dir()) + " --prefix /usr");
  EXPECT_EQ(irc, 0) << iout;
  auto [rc, out] =
      sh("cpack -G DEB -B " + q(dir / "out") + " --config " + q(bin_dir() / "CPackConfig.cmake") +
         " -D CPACK_INSTALL_CMAKE_PROJECTS= -D CPACK_INSTALLED_DIRECTORIES=" +
         q(dir.string() + "/stage;/"));
  EXPECT_EQ(rc, 0) << out;
  Package p;
  for (auto& e : fs::directory_iterator(dir / "out")) {
    if (e.path().extension() == ".deb") p.deb = e.path();
    if (e.path().extension() == ".ddeb") p.ddeb = e.path();
  }
  EXPECT_FALSE(p.deb.empty()) << out;
  return p;
}

bool can_package() { return have("cpack") && have("dpkg-deb") && have("readelf"); }

TEST(DaemonPackage, DebHoldsEverythingInItsPlaceAndTheUnitVerifies) {
  if (!can_package()) GTEST_SKIP() << "cpack, dpkg-deb or readelf missing";
  ASSERT_TRUE(fs::exists(bin_dir() / "CPackConfig.cmake")) << "configure the build first";
  TempDir dir;
  Package pkg = build_package(dir.path);
  ASSERT_FALSE(pkg.deb.empty());
  EXPECT_NE(pkg.deb.filename().string().find("repwatch_"), std::string::npos) << pkg.deb;

  // Control: the conffile, the maintainer scripts, the dependencies, the maintainer.
  fs::path control = dir.path / "control";
  auto [erc, eout] = sh("dpkg-deb -e " + q(pkg.deb) + " " + q(control));
  ASSERT_EQ(erc, 0) << eout;
  EXPECT_EQ(read_file(control / "conffiles"), "/etc/repwatch/repwatch.toml\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    ASSERT_TRUE(fs::exists(control / script)) << script;
    EXPECT_EQ(mode_of(control / script) & 0111, 0111u) << script << " must be executable";
    auto [src, sout] = sh("sh -n " + q(control / script));
    EXPECT_EQ(src, 0) << script << ": " << sout;
    // The unit is started, stopped and restarted through deb-systemd-invoke (policy-rc.d);
    // systemctl itself only reloads systemd.
    static const std::regex calls_systemctl(R"(^(?:.+;)?\s*systemctl\b)");  // as lintian
    std::istringstream lines(read_file(control / script));
    for (std::string line; std::getline(lines, line);) {
      if (std::regex_search(line, calls_systemctl) &&
          line.find("daemon-reload") == std::string::npos)
        ADD_FAILURE() << script << " calls systemctl: " << line;
    }
  }
  std::string postinst = read_file(control / "postinst");
  EXPECT_NE(postinst.find("adduser --system"), std::string::npos);
  EXPECT_NE(postinst.find("deb-systemd-helper update-state repwatchd.service"), std::string::npos);
  EXPECT_NE(postinst.find("deb-systemd-invoke try-restart repwatchd.service"), std::string::npos);
  EXPECT_NE(read_file(control / "prerm").find("deb-systemd-invoke stop repwatchd.service"),
            std::string::npos);
  EXPECT_NE(read_file(control / "postrm").find("deb-systemd-helper purge repwatchd.service"),
            std::string::npos);
  std::string fields = read_file(control / "control");
  EXPECT_NE(fields.find("Package: repwatch"), std::string::npos) << fields;
  EXPECT_NE(fields.find("adduser"), std::string::npos) << fields;
  EXPECT_NE(fields.find("libsqlite3"), std::string::npos) << fields;
  EXPECT_EQ(fields.find("@localhost"), std::string::npos) << fields;
  std::istringstream field_lines(fields);
  bool in_description = false;
  for (std::string line; std::getline(field_lines, line);) {
    in_description = line.rfind("Description:", 0) == 0 || (in_description && line[0] == ' ');
    if (in_description) {
      EXPECT_LE(line.size(), 80u) << "description line too long: " << line;
    }
  }

  // Files, in their FHS places.
  fs::path root = dir.path / "root";
  auto [xrc, xout] = sh("dpkg -x " + q(pkg.deb) + " " + q(root));
  ASSERT_EQ(xrc, 0) << xout;
  EXPECT_TRUE(fs::exists(root / "usr/sbin/repwatchd"));
  EXPECT_EQ(mode_of(root / "usr/sbin/repwatchd") & 0111, 0111u);
  if (cli_built()) {
    EXPECT_TRUE(fs::exists(root / "usr/bin/repwatch"));
  }
  fs::path unit = root / "usr/lib/systemd/system/repwatchd.service";
  ASSERT_TRUE(fs::exists(unit));
  EXPECT_TRUE(fs::exists(root / "etc/repwatch/repwatch.toml"));
  // Debian's mode for a conffile; the postinst makes it root:repwatch 0640.
  EXPECT_EQ(mode_of(root / "etc/repwatch/repwatch.toml"), 0644u);
  EXPECT_TRUE(fs::exists(root / "usr/share/repwatch/repwatch.example.toml"));
  EXPECT_TRUE(fs::exists(root / "usr/share/repwatch/taxonomy.toml"));
  EXPECT_TRUE(fs::exists(root / "usr/share/repwatch/reply_terms.toml"));
  for (const char* doc : {"README.md", "SECURITY.md", "copyright", "changelog.gz"})
    EXPECT_TRUE(fs::exists(root / "usr/share/doc/repwatch" / doc)) << doc;
  for (const char* page : {"man8/repwatchd.8.gz", "man5/repwatch.toml.5.gz", "man1/repwatch.1.gz"})
    EXPECT_TRUE(fs::exists(root / "usr/share/man" / page)) << page;
  EXPECT_FALSE(fs::exists(root / "usr/etc")) << "config must go to /etc, not /usr/etc";
  EXPECT_FALSE(fs::exists(root / "usr/local"));
  EXPECT_FALSE(fs::exists(root / "usr/lib/debug")) << "debug symbols belong in -dbgsym";

  std::string unit_text = read_file(unit);
  EXPECT_NE(unit_text.find("ExecStart=/usr/sbin/repwatchd --config /etc/repwatch/repwatch.toml"),
            std::string::npos)
      << unit_text;
  EXPECT_NE(unit_text.find("Type=notify"), std::string::npos);
  EXPECT_NE(unit_text.find("User=repwatch"), std::string::npos);
  // A config error (78) or a bad command line (64) is not restarted; other failures only up to
  // the start limit.
  EXPECT_NE(unit_text.find("RestartPreventExitStatus=64 78"), std::string::npos) << unit_text;
  EXPECT_NE(unit_text.find("StartLimitBurst="), std::string::npos) << unit_text;

  // The packaged binaries: hardened, stripped, with a debuglink to the -dbgsym package's file.
  std::vector<fs::path> binaries = {root / "usr/sbin/repwatchd"};
  if (cli_built()) binaries.push_back(root / "usr/bin/repwatch");
  for (const auto& b : binaries) {
    expect_hardened(b);
    auto [src, sections] = sh("readelf -W -S " + q(b));
    EXPECT_EQ(sections.find(".debug_info"), std::string::npos) << b << " is not stripped";
    EXPECT_NE(sections.find(".gnu_debuglink"), std::string::npos) << b << " has no debuglink";
  }
  ASSERT_FALSE(pkg.ddeb.empty()) << "no -dbgsym package";
  auto [drc, dlist] = sh("dpkg-deb -c " + q(pkg.ddeb) + " && dpkg-deb -f " + q(pkg.ddeb));
  EXPECT_EQ(drc, 0) << dlist;
  EXPECT_NE(dlist.find("Package: repwatch-dbgsym"), std::string::npos) << dlist;
  static const std::regex debug_file(R"(usr/lib/debug/\.build-id/\w\w/\w+\.debug)");
  EXPECT_GE(std::distance(std::sregex_iterator(dlist.begin(), dlist.end(), debug_file),
                          std::sregex_iterator()),
            static_cast<long>(binaries.size()))
      << dlist;

  // lintian, Debian's package checker: no error, no warning.
  if (have("lintian")) {
    const fs::path log = dir.path / "lintian.log";
    auto [lrc, lout] = sh("lintian --fail-on error,warning --tag-display-limit 0 " + q(pkg.deb) +
                          " " + q(pkg.ddeb) + " >" + q(log) + " 2>&1; rc=$?; grep -v " +
                          "'running with root privileges' " + q(log) + "; exit $rc");
    EXPECT_EQ(lrc, 0) << lout;
    EXPECT_EQ(lout, "") << lout;
    std::printf("lintian %s %s: %s\n", pkg.deb.filename().c_str(), pkg.ddeb.filename().c_str(),
                lout.empty() ? "no tags" : lout.c_str());
  }

  // The packaged binary runs; the packaged config is the example, whose import paths do not
  // exist until the clinic creates them: --check-config says so, by key. With the paths there
  // (here: the example moved into a scratch directory) it passes.
  auto [vrc, vout] = sh(q(root / "usr/sbin/repwatchd") + " --version");
  EXPECT_EQ(vrc, 0) << vout;
  auto [crc, cout] = sh(q(root / "usr/sbin/repwatchd") + " --check-config --config " +
                        q(root / "etc/repwatch/repwatch.toml"));
  if (!fs::exists("/var/lib/repwatch/import")) {
    EXPECT_EQ(crc, 78) << cout;
    EXPECT_NE(cout.find("sources[0].path: cannot read \"/var/lib/repwatch/import/healthgrades\""),
              std::string::npos)
        << cout;
  }
  // Every import path the example names, created as the clinic would: a directory, or a file
  // (a name with an extension) holding a header line.
  fs::path scratch = dir.path / "var-lib-repwatch";
  const std::string example = read_file(root / "etc/repwatch/repwatch.toml");
  static const std::regex import_path(R"re(\npath = "/var/lib/repwatch/(import/[^"]+)")re");
  int paths = 0;
  for (auto it = std::sregex_iterator(example.begin(), example.end(), import_path);
       it != std::sregex_iterator(); ++it, ++paths) {
    const fs::path p = scratch / (*it)[1].str();
    if (p.has_extension()) {
      fs::create_directories(p.parent_path());
      write_file(p, "Response ID\n", 0644);
    } else {
      fs::create_directories(p);
    }
  }
  EXPECT_GE(paths, 2) << "the example config names no import path";
  std::string moved =
      std::regex_replace(example, std::regex("/var/lib/repwatch"), scratch.string());
  write_file(dir.path / "moved.toml", moved, 0640);
  auto [mrc, mout] =
      sh(q(root / "usr/sbin/repwatchd") + " --check-config --config " + q(dir.path / "moved.toml"));
  EXPECT_EQ(mrc, 0) << mout;

  if (!have("systemd-analyze")) GTEST_SKIP() << "systemd-analyze missing (package systemd)";
  expect_unit_verifies(root, unit);
  double level = exposure(unit);
  EXPECT_LE(level, 2.0) << "systemd-analyze security must rate the unit OK or better";
  std::printf("systemd-analyze security exposure of the packaged unit: %.1f\n", level);
}

// The maintainer scripts (packaging/debian/, as the .deb carries them), run as dpkg runs them
// for another root (DPKG_ROOT), with the commands that would change this machine's users and
// ownerships replaced by stubs that log their arguments: configure creates the directories
// with their owners and modes; a unit enabled while systemd was not running (systemctl --root)
// leaves no symlink behind once the package is purged; purge removes the config, the secrets
// and the state directory.
TEST(DaemonPackage, MaintainerScriptsInstallAndPurgeCleanly) {
  if (!have("deb-systemd-helper")) GTEST_SKIP() << "deb-systemd-helper missing";
  TempDir dir;
  const fs::path control = source_dir() / "packaging/debian";
  const fs::path root = dir.path / "root", stubs = dir.path / "stubs";
  // What dpkg unpacks before it runs the postinst.
  write_file(root / "usr/lib/systemd/system/repwatchd.service",
             read_file(source_dir() / "systemd/repwatchd.service"), 0644);
  write_file(root / "usr/sbin/repwatchd", "#!/bin/sh\n", 0755);
  write_file(root / "etc/repwatch/repwatch.toml",
             read_file(source_dir() / "config/repwatch.example.toml"), 0644);
  fs::path calls = dir.path / "calls.log";
  auto stub = [&](const std::string& name, const std::string& body = "") {
    write_file(stubs / name,
               "#!/bin/sh\necho \"" + name + " $*\" >> " + q(calls) + "\n" + body + "exit 0\n",
               0755);
  };
  stub("addgroup");
  stub("adduser");
  stub("getent", "exit 2\n");             // no such user or group yet
  stub("chown");                          // the repwatch user does not exist here
  stub("dpkg-statoverride", "exit 1\n");  // no overrides
  stub("deb-systemd-invoke");
  // As dpkg runs a maintainer script (deb-systemd-helper insists on it).
  const std::string env = "PATH=" + stubs.string() + ":$PATH DPKG_ROOT=" + q(root) +
                          " DPKG_MAINTSCRIPT_PACKAGE=repwatch ";
  auto run = [&](const std::string& script, const std::string& args) {
    auto [rc, out] =
        sh(env + "DPKG_MAINTSCRIPT_NAME=" + script + " sh -e " + q(control / script) + " " + args);
    EXPECT_EQ(rc, 0) << script << " " << args << ":\n" << out;
    return out;
  };

  run("postinst", "configure");
  std::string log = read_file(calls);
  EXPECT_NE(log.find("addgroup --system --quiet repwatch"), std::string::npos) << log;
  EXPECT_NE(log.find("adduser --system"), std::string::npos) << log;
  EXPECT_NE(log.find("chown root:repwatch " + root.string() + "/etc/repwatch\n"), std::string::npos)
      << log;
  EXPECT_NE(log.find("chown repwatch:repwatch " + root.string() + "/etc/repwatch/secrets"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("chown root:repwatch " + root.string() + "/etc/repwatch/repwatch.toml"),
            std::string::npos)
      << log;
  EXPECT_EQ(mode_of(root / "etc/repwatch"), 0750u);
  EXPECT_EQ(mode_of(root / "etc/repwatch/secrets"), 0700u);
  EXPECT_EQ(mode_of(root / "etc/repwatch/repwatch.toml"), 0640u);
  EXPECT_EQ(mode_of(root / "var/lib/repwatch"), 0750u);
  EXPECT_EQ(log.find("deb-systemd-invoke"), std::string::npos)
      << "nothing is started for another root, nor on a first install:\n"
      << log;
  // deb-systemd-helper recorded the unit's symlinks, so that purge can remove them.
  fs::path state = root / "var/lib/systemd/deb-systemd-helper-enabled/repwatchd.service.dsh-also";
  ASSERT_TRUE(fs::exists(state));
  EXPECT_NE(read_file(state).find("multi-user.target.wants/repwatchd.service"), std::string::npos);

  // The admin enables the unit while systemd is not running (an image build, a chroot).
  fs::path link = root / "etc/systemd/system/multi-user.target.wants/repwatchd.service";
  if (!have("systemctl") || sh("systemctl --root=" + q(root) + " enable repwatchd.service").first) {
    fs::create_directories(link.parent_path());
    fs::create_symlink("/usr/lib/systemd/system/repwatchd.service", link);
  }
  ASSERT_TRUE(fs::is_symlink(link));

  // An upgrade keeps the enablement and restarts nothing for another root.
  run("postinst", "configure 0.0.9");
  EXPECT_TRUE(fs::is_symlink(link));

  // Remove: the package's files go (dpkg), the symlink stays, broken, as with any package...
  run("prerm", "remove");
  fs::remove(root / "usr/lib/systemd/system/repwatchd.service");
  fs::remove(root / "usr/sbin/repwatchd");
  run("postrm", "remove");
  EXPECT_TRUE(fs::exists(root / "etc/repwatch/repwatch.toml")) << "remove keeps the config";
  // ... and purge removes it, the config, the secrets and the state directory.
  write_file(root / "etc/repwatch/secrets/smtp-password", "x\n", 0600);
  run("postrm", "purge");
  EXPECT_FALSE(fs::is_symlink(link)) << "purge left the enable symlink";
  EXPECT_FALSE(fs::exists(state));
  EXPECT_FALSE(fs::exists(root / "etc/repwatch"));
  EXPECT_FALSE(fs::exists(root / "var/lib/repwatch"));
  auto [frc, left] = sh("find " + q(root) + " -name '*repwatch*' -print");
  EXPECT_EQ(left, "") << "left behind after purge:\n" << left;
}

// A plain `cmake` build is hardened like the package's (cmake/Hardening.cmake), and
// `cmake --install` keeps its debug symbols apart: a .debug file by build id, and a debuglink.
TEST(DaemonPackage, PlainBuildIsHardenedAndInstallKeepsDebugSymbolsApart) {
  if (!have("readelf")) GTEST_SKIP() << "readelf missing";
  expect_hardened(bin_dir() / "daemon" / "repwatchd");
  if (cli_built()) expect_hardened(bin_dir() / "cli" / "repwatch");

  TempDir dir;
  auto [rc, out] = sh("cmake --install " + q(bin_dir()) + " --prefix " + q(dir.path / "p"));
  ASSERT_EQ(rc, 0) << out;
  auto [src, sections] = sh("readelf -W -S " + q(bin_dir() / "daemon" / "repwatchd"));
  if (sections.find(".debug_info") == std::string::npos)
    GTEST_SKIP() << "built without -g: no debug symbols to keep";
  fs::path installed = dir.path / "p/sbin/repwatchd";
  auto [irc, isections] = sh("readelf -W -S -n " + q(installed));
  EXPECT_EQ(isections.find(".debug_info"), std::string::npos) << isections;
  EXPECT_NE(isections.find(".gnu_debuglink"), std::string::npos) << isections;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(isections, id, std::regex(R"(Build ID: (\w\w)(\w+))")));
  fs::path debug = dir.path / "p/lib/debug/.build-id" / id[1].str() / (id[2].str() + ".debug");
  ASSERT_TRUE(fs::exists(debug)) << out;
  auto [drc, dsections] = sh("readelf -W -S " + q(debug));
  EXPECT_NE(dsections.find(".debug_info"), std::string::npos) << dsections;
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
  EXPECT_TRUE(fs::exists(prefix / "share/man/man8/repwatchd.8.gz")) << out;
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

// The manual pages are generated from the programs' own help and the example config, and
// format without a warning (lintian checks the same with man --warnings).
TEST(DaemonPackage, ManualPagesFormatCleanlyAndFollowTheHelp) {
  fs::path man = bin_dir() / "man";
  if (!fs::exists(man / "repwatchd.8")) GTEST_SKIP() << "no manual pages built (python3 missing)";
  if (!have("man")) GTEST_SKIP() << "man missing (package man-db)";
  for (const char* page : {"repwatchd.8", "repwatch.1", "repwatch.toml.5"}) {
    auto [rc, out] = sh("LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z " +
                        q(man / page) + " >/dev/null");
    EXPECT_EQ(rc, 0) << page << ": " << out;
    EXPECT_EQ(out, "") << page << ": " << out;
  }
  auto [rc, text] = sh("MANWIDTH=100 man -l " + q(man / "repwatchd.8") + " | col -b");
  EXPECT_NE(text.find("--check-config"), std::string::npos) << text;
  EXPECT_NE(text.find("--as-user"), std::string::npos) << text;
  EXPECT_NE(text.find("EXIT STATUS"), std::string::npos) << text;
  EXPECT_NE(text.find("78"), std::string::npos) << text;
  auto [rc5, toml] = sh("MANWIDTH=100 man -l " + q(man / "repwatch.toml.5") + " | col -b");
  for (const char* key : {"state_dir", "password_file", "json_http", "[smtp]", "fetch_threads"})
    EXPECT_NE(toml.find(key), std::string::npos) << key;
  if (cli_built()) {
    auto [rc1, cli] = sh("MANWIDTH=100 man -l " + q(man / "repwatch.1") + " | col -b");
    for (const char* cmd : {"summary", "trends", "touchpoints", "export", "report", "filters"})
      EXPECT_NE(cli.find(cmd), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace repwatch::testing
