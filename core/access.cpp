#include "core/access.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace repwatch {

std::string user_name(uid_t uid) {
  passwd pw{}, *found = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return pw.pw_name;
  return std::to_string(uid);
}

std::string group_name(gid_t gid) {
  group gr{}, *found = nullptr;
  char buf[4096];
  if (getgrgid_r(gid, &gr, buf, sizeof buf, &found) == 0 && found) return gr.gr_name;
  return std::to_string(gid);
}

std::string describe_access(const struct stat& st) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return std::string("mode ") + mode + ", " + user_name(st.st_uid) + ":" + group_name(st.st_gid);
}

std::string unreadable_reason(int err) {
  std::string why = std::strerror(err);
  if (err == EACCES || err == EPERM) why += " (as user " + user_name(::geteuid()) + ")";
  return why;
}

std::string cannot_read(const std::filesystem::path& path, PathKind kind) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return unreadable_reason(ec.value());
  if (!std::filesystem::exists(status)) return "no such file or directory";
  bool dir = std::filesystem::is_directory(status);
  if (kind == PathKind::kDirectory && !dir) return "not a directory";
  if (kind == PathKind::kFile && dir) return "a directory, not a file";
  if (::access(path.c_str(), dir ? (R_OK | X_OK) : R_OK) != 0) return unreadable_reason(errno);
  return "";
}

}  // namespace repwatch
