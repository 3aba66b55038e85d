#include "cli/access.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "core/access.h"

namespace repwatch::cli {

namespace fs = std::filesystem;

namespace {

// This process's (effective) user, for "user NAME may not ...".
std::string user_name() { return repwatch::user_name(geteuid()); }

bool in_group(gid_t gid) {
  if (getegid() == gid) return true;
  int n = getgroups(0, nullptr);
  if (n <= 0) return false;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  n = getgroups(n, groups.data());
  for (int i = 0; i < n; ++i)
    if (groups[static_cast<size_t>(i)] == gid) return true;
  return false;
}

// Is access `mode` (R_OK, W_OK, X_OK) to `p` refused for permissions (not: missing)?
bool refused(const fs::path& p, int mode) {
  if (faccessat(AT_FDCWD, p.c_str(), mode, AT_EACCESS) == 0) return false;
  return errno == EACCES || errno == EPERM || errno == EROFS;
}

// The directory on the way to `file` that this user may not enter, if any.
std::optional<fs::path> closed_directory(const fs::path& file) {
  std::error_code ec;
  fs::path abs = fs::absolute(file, ec);
  if (ec) abs = file;
  fs::path dir;
  for (auto it = abs.begin(); it != abs.end(); ++it) {
    if (std::next(it) == abs.end()) break;  // the file itself
    dir /= *it;
    if (refused(dir, X_OK)) return dir;
  }
  return std::nullopt;
}

// "members of group repwatch may: ask the administrator to add you (...)", or who else may.
std::string who_may_read(const fs::path& p, bool directory) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "ask the administrator for access";
  const std::string user = user_name();
  const std::string group = group_name(st.st_gid);
  const bool group_may = directory ? (st.st_mode & S_IXGRP) : (st.st_mode & S_IRGRP);
  if (group_may && !in_group(st.st_gid))
    return "members of group " + group + " may: ask the administrator to add you (sudo adduser " +
           user + " " + group + "), then log in again";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
  return "its owner " + repwatch::user_name(st.st_uid) + " and group " + group + " have mode " +
         mode + ": ask the administrator to check its permissions";
}

std::optional<std::string> read_problem(const fs::path& file, const std::string& what) {
  const std::string subject = "cannot read " + (what.empty() ? "" : what + " ") + file.string();
  if (auto dir = closed_directory(file))
    return subject + ": user " + user_name() + " may not enter " + dir->string() + "; " +
           who_may_read(*dir, true);
  if (refused(file, R_OK))
    return subject + ": user " + user_name() + " may not read it; " + who_may_read(file, false);
  return std::nullopt;
}

std::string rerun_as(uid_t uid, const WriteCommand& command) {
  return "sudo -u " + repwatch::user_name(uid) + " repwatch " + command.args;
}

std::optional<std::string> write_problem(const fs::path& db_file, const WriteCommand& command) {
  std::vector<fs::path> files = {db_file};
  bool all_exist = true;
  for (const char* suffix : {"-wal", "-shm"}) {
    fs::path f = db_file;
    f += suffix;
    std::error_code ec;
    if (fs::exists(f, ec))
      files.push_back(f);
    else
      all_exist = false;
  }
  // SQLite creates the -wal and -shm files next to the database when they are missing.
  if (!all_exist) files.push_back(db_file.parent_path().empty() ? "." : db_file.parent_path());
  for (const fs::path& f : files) {
    if (!refused(f, W_OK)) continue;
    if (errno == EROFS)
      return "`repwatch " + command.name + "` writes to the database " + db_file.string() +
             ", which is on a read-only file system";
    struct stat st {};
    if (::stat(db_file.c_str(), &st) != 0) st.st_uid = 0;
    return "`repwatch " + command.name + "` writes to the database " + db_file.string() +
           ", which user " + user_name() + " may only read" +
           (f == db_file ? std::string() : " (" + f.string() + " is not writable)") +
           ": run it as repwatchd's user, the database's owner: " + rerun_as(st.st_uid, command);
  }
  return std::nullopt;
}

}  // namespace

void require_readable(const fs::path& file, const std::string& what) {
  if (auto problem = read_problem(file, what)) throw Error(*problem);
}

void require_writable_database(const fs::path& db_file, const WriteCommand& command) {
  require_readable(db_file, "the database");
  if (auto problem = write_problem(db_file, command)) throw Error(*problem);
}

std::optional<std::string> explain_db_error(const DbError& error, const fs::path& db_file,
                                            const std::optional<WriteCommand>& command) {
  const int primary = error.code() & 0xff;
  if (primary == SQLITE_READONLY) {
    if (command)
      if (auto problem = write_problem(db_file, *command)) return problem;
    std::string s = "the database " + db_file.string() + " is read-only for user " + user_name() +
                    " (" + error.what() + ")";
    if (command) {
      struct stat st {};
      if (::stat(db_file.c_str(), &st) != 0) st.st_uid = 0;
      s += ": `repwatch " + command->name +
           "` must run as repwatchd's user, the database's owner: " + rerun_as(st.st_uid, *command);
    }
    return s;
  }
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_PERM)
    return read_problem(db_file, "the database");
  return std::nullopt;
}

std::optional<std::string> explain_filesystem_error(const fs::filesystem_error& e) {
  if (e.code() != std::errc::permission_denied && e.code() != std::errc::operation_not_permitted)
    return std::nullopt;
  if (!e.path1().empty())
    if (auto problem = read_problem(e.path1(), "")) return problem;
  return std::nullopt;
}

}  // namespace repwatch::cli
