// Permissions as a clinic's server has them, with the real `repwatch` binary run as an
// unprivileged user (setpriv to nobody; the tests run as root, which no permission stops):
//   - a manager (may read the config and the database, not write them) running a command that
//     writes - rescore, reindex, alerts retry, alerts test - is told to run it as the
//     database's owner, with the command line to use, not "attempt to write a readonly
//     database";
//   - a user outside the group (may not enter the state directory, may not read the config)
//     is told which file and what to do, not "filesystem error: status: Permission denied";
//   - what a manager may do still works.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "fixtures/cli/fixture_db.h"

namespace repwatch::cli::testing {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code = -1;
  std::string output;  // stdout and stderr
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// `binary args...` as user nobody (uid/gid 65534, no supplementary groups).
Outcome run_as_nobody(const fs::path& binary, const std::vector<std::string>& args) {
  std::string cmd =
      "setpriv --reuid=65534 --regid=65534 --clear-groups " + shell_quote(binary.string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " 2>&1";
  Outcome r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

class CliAccess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run commands as another user";
    // A copy that nobody may run, wherever the build directory is.
    bin_dir_ = db_.dir().parent_path() / (db_.dir().filename().string() + "-bin");
    fs::create_directories(bin_dir_);
    ::chmod(bin_dir_.c_str(), 0755);
    binary_ = bin_dir_ / "repwatch";
    fs::copy_file(fs::path(REPWATCH_BINARY_DIR) / "cli" / "repwatch", binary_,
                  fs::copy_options::overwrite_existing);
    ::chmod(binary_.c_str(), 0755);
    if (as_nobody({"--version"}).code != 0) GTEST_SKIP() << "setpriv cannot run it as nobody";
    // What a manager has: the config and the database readable, nothing writable.
    config_ = db_.dir() / "repwatch.toml";
    std::ofstream(config_) << "state_dir = \"" << db_.dir().string() << "\"\n"
                           << "[[locations]]\nid = \"downtown\"\n"
                           << "[smtp]\nurl = \"smtp://127.0.0.1:1\"\nstarttls = \"off\"\n";
    for (const auto& e : fs::directory_iterator(db_.dir())) ::chmod(e.path().c_str(), 0644);
    ::chmod(db_.dir().c_str(), 0755);
  }
  void TearDown() override {
    std::error_code ec;
    if (!bin_dir_.empty()) fs::remove_all(bin_dir_, ec);
  }
  Outcome as_nobody(const std::vector<std::string>& args) const {
    return run_as_nobody(binary_, args);
  }
  FixtureDb db_;
  fs::path config_, bin_dir_, binary_;
};

TEST_F(CliAccess, AManagerCanReadButIsToldHowToRunWriteCommands) {
  // Reading works.
  Outcome summary = as_nobody({"--config", config_.string(), "summary"});
  EXPECT_EQ(summary.code, 0) << summary.output;

  const std::vector<std::vector<std::string>> writers = {
      {"--config", config_.string(), "rescore"},
      {"--db", db_.path().string(), "reindex"},
      {"--config", config_.string(), "alerts", "retry", "1"},
      {"--config", config_.string(), "alerts", "retry", "--all-failed"},
      {"--config", config_.string(), "alerts", "test", "--to", "it@clinic.example"},
  };
  for (const auto& args : writers) {
    std::string line;
    for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
    SCOPED_TRACE(line);
    Outcome r = as_nobody(args);
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_TRUE(contains(r.output, "writes to the database " + db_.path().string())) << r.output;
    EXPECT_TRUE(contains(r.output, "which user nobody may only read")) << r.output;
    // What to do, with the command line to do it (the database's owner is root here).
    EXPECT_TRUE(contains(r.output, "sudo -u root repwatch " + line)) << r.output;
    EXPECT_FALSE(contains(r.output, "readonly database")) << r.output;
    EXPECT_FALSE(contains(r.output, "filesystem error")) << r.output;
  }
}

TEST_F(CliAccess, AUserOutsideTheGroupIsToldWhatToAskFor) {
  ::chmod(db_.dir().c_str(), 0750);  // the state directory: owner and group only
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--db", db_.path().string(), "summary"},
        std::vector<std::string>{"--db", db_.path().string(), "alerts"},
        std::vector<std::string>{"--db", db_.path().string(), "rescore"}}) {
    SCOPED_TRACE(args.back());
    Outcome r = as_nobody(args);
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_TRUE(contains(r.output, "cannot read the database " + db_.path().string() +
                                       ": user nobody may not enter " + db_.dir().string()))
        << r.output;
    EXPECT_TRUE(contains(r.output,
                         "members of group root may: ask the administrator to add you "
                         "(sudo adduser nobody root), then log in again"))
        << r.output;
    EXPECT_FALSE(contains(r.output, "filesystem error")) << r.output;
    EXPECT_FALSE(contains(r.output, "unable to open database file")) << r.output;
  }

  ::chmod(db_.dir().c_str(), 0755);
  ::chmod(config_.c_str(), 0640);  // root:root 0640, like /etc/repwatch/repwatch.toml
  Outcome r = as_nobody({"--config", config_.string(), "summary"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "cannot read the config " + config_.string() +
                                     ": user nobody may not read it; members of group root may"))
      << r.output;
}

}  // namespace
}  // namespace repwatch::cli::testing
