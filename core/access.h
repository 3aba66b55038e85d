// repwatch/core/access.h - who may read a file, in words for messages about permissions.
//
//   struct stat st; ::stat(path, &st);
//   "... can be read by others (" + describe_access(st) + ")"   // "mode 0640, root:repwatch"
//   "cannot read ...: " + unreadable_reason(errno)  // "Permission denied (as user repwatch)"
//   if (auto why = cannot_read(dir, PathKind::kDirectory); !why.empty()) ...
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <string>

namespace repwatch {

// The user's name ("root"), or the number when the id has none.
std::string user_name(uid_t uid);
// The group's name ("repwatch"), or the number when the id has none.
std::string group_name(gid_t gid);
// "mode 0640, root:repwatch"
std::string describe_access(const struct stat& st);
// strerror(err), and for EACCES / EPERM who was refused: "Permission denied (as user repwatch)".
std::string unreadable_reason(int err);

// What a path may be for cannot_read().
enum class PathKind { kFile, kDirectory, kEither };
// Why this process cannot read `path` as a `kind` ("no such file or directory", "not a
// directory", "Permission denied (as user repwatch)"); "" when it can (a directory: list it).
std::string cannot_read(const std::filesystem::path& path, PathKind kind);

}  // namespace repwatch
