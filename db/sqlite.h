// repwatch/db/sqlite.h - a thin RAII layer over SQLite3.
//
//   Database db = Database::open(path);          // WAL, busy timeout, foreign keys
//   Transaction tx(db);                          // BEGIN IMMEDIATE; rolls back unless commit()
//   Statement st = db.prepare("INSERT INTO t(a, b) VALUES (?, ?)");
//   st.bind(1, "x").bind(2, int64_t{42});
//   st.run();                                    // or: while (st.step()) st.column_text(0)
//   tx.commit();
//
// Every failure throws DbError with SQLite's message and the SQL or file it concerns.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace repwatch::db {

class Database;

class Statement {
 public:
  Statement() = default;
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Text is copied (SQLITE_TRANSIENT).
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind_null(int index);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  // Binds by parameter name (":name"); throws when the statement has no such parameter.
  template <typename T>
  Statement& bind(const char* name, const T& value) {
    return bind(parameter_index(name), value);
  }

  // Steps once: true while a row is available, false when done. Throws on error.
  bool step();
  // Steps to completion (INSERT/UPDATE/DELETE) and resets for reuse.
  void run();
  // Resets the statement and clears bindings for reuse.
  void reset();

  bool is_null(int col) const;
  int64_t column_int(int col) const;
  double column_double(int col) const;
  std::string column_text(int col) const;
  std::string_view column_view(int col) const;  // valid until the next step/reset
  std::optional<int64_t> column_opt_int(int col) const;
  std::optional<double> column_opt_double(int col) const;
  int column_count() const;
  std::string column_name(int col) const;

  sqlite3_stmt* handle() const { return stmt_; }

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  int parameter_index(const char* name) const;
  [[noreturn]] void fail(const char* what) const;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// One schema change. Migrations are applied in order; PRAGMA user_version records how many
// have been applied, so each runs exactly once per database.
struct Migration {
  const char* name;
  const char* sql;
};

class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating when read-write) the database, sets WAL, busy_timeout, foreign_keys,
  // synchronous=FULL, and persistent WAL so read-only users can query it.
  static Database open(const std::filesystem::path& path, Mode mode = Mode::kReadWrite);

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  Statement prepare(std::string_view sql) const;
  // Executes one or more statements without results.
  void exec(std::string_view sql) const;
  // Applies the migrations not yet applied, each in its own transaction. Throws DbError if the
  // database is newer than this program (user_version > migrations.size()).
  void migrate(const std::vector<Migration>& migrations) const;
  int user_version() const;

  int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* handle() const { return db_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(const Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  const Database& db_;
  bool done_ = false;
};

// A savepoint inside the current transaction: on destruction, unless release() was called,
// what was written since construction is undone and the transaction goes on.
class Savepoint {
 public:
  explicit Savepoint(const Database& db);
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  ~Savepoint();
  void release();

 private:
  const Database& db_;
  bool done_ = false;
};

// True when the error is about the data of the statement (a constraint, a value too big or of
// the wrong type), not the database (full, read-only, locked, corrupt, out of memory): the
// record is bad and the database can take the next one.
bool is_record_error(const DbError& e);

}  // namespace repwatch::db
