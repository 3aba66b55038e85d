// repwatch/cli/access.h - what this user may do with repwatch's files, said in a sentence.
//
// Managers (members of group repwatch) may read the config and the database; writing the
// database (rescore, reindex, alerts retry, alerts test) is for repwatchd's own user; anyone
// else may read neither. Instead of SQLite's "attempt to write a readonly database" or a raw
// "filesystem error: status: Permission denied", the commands say what is wrong and what to do:
//
//   require_readable(config_file, "the config");                // before loading it
//   WriteCommand cmd{"rescore", "--config /etc/repwatch/repwatch.toml rescore"};
//   require_writable_database(db_file, cmd);                    // before opening it read-write
//   catch (const DbError& e) { if (auto s = explain_db_error(e, db_file, cmd)) ... }
//
// The checks use the effective user's permissions (faccessat with AT_EACCESS), so root passes
// them all, as it passes SQLite's.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"

namespace repwatch::cli {

// Throws Error when this user cannot read `file` (or reach it: a directory on the way that it
// may not enter), naming the file, the user, the group that may, and what to do. Returns
// quietly when the file does not exist (the caller says that in its own words).
void require_readable(const std::filesystem::path& file, const std::string& what);

// A command that writes the database: its name ("rescore", "alerts retry") and the arguments
// to run it again with as the database's owner ("--config FILE alerts retry 42").
struct WriteCommand {
  std::string name;
  std::string args;
};

// Throws Error when this user cannot write the database `db_file` (the file, its -wal and -shm
// files, its directory), saying that the command must run as the database's owner (sudo -u
// OWNER repwatch ARGS). Checks readability first (require_readable).
void require_writable_database(const std::filesystem::path& db_file, const WriteCommand& command);

// The sentence for a database error that comes from permissions (SQLite's SQLITE_READONLY,
// SQLITE_CANTOPEN or SQLITE_PERM on `db_file`); nullopt for any other error. `command`: the
// write command that ran, if any.
std::optional<std::string> explain_db_error(const DbError& error,
                                            const std::filesystem::path& db_file,
                                            const std::optional<WriteCommand>& command);

// The sentence for a filesystem error that is a permission denied; nullopt otherwise.
std::optional<std::string> explain_filesystem_error(const std::filesystem::filesystem_error& e);

}  // namespace repwatch::cli
