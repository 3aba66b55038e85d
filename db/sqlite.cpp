#include "db/sqlite.h"

#include <string>
#include <utility>

namespace repwatch::db {

namespace {

[[noreturn]] void throw_db(sqlite3* db, const std::string& context) {
  std::string msg = context + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
  throw DbError(msg, db ? sqlite3_extended_errcode(db) : SQLITE_NOMEM);
}

}  // namespace

// ---- Statement --------------------------------------------------------------------------

Statement::Statement(Statement&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), stmt_(std::exchange(o.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = std::exchange(o.db_, nullptr);
    stmt_ = std::exchange(o.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void Statement::fail(const char* what) const {
  const char* sql = stmt_ ? sqlite3_sql(stmt_) : nullptr;
  throw_db(db_, std::string(what) + (sql ? std::string(" [") + sql + "]" : std::string()));
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) !=
      SQLITE_OK)
    fail("bind text");
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail("bind int");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) fail("bind double");
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail("bind null");
  return *this;
}

int Statement::parameter_index(const char* name) const {
  int i = sqlite3_bind_parameter_index(stmt_, name);
  if (i == 0) throw DbError(std::string("no SQL parameter named ") + name);
  return i;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail("step");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Statement::column_int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::column_double(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::column_text(int col) const { return std::string(column_view(col)); }
std::string_view Statement::column_view(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}
std::optional<int64_t> Statement::column_opt_int(int col) const {
  if (is_null(col)) return std::nullopt;
  return column_int(col);
}
std::optional<double> Statement::column_opt_double(int col) const {
  if (is_null(col)) return std::nullopt;
  return column_double(col);
}
int Statement::column_count() const { return sqlite3_column_count(stmt_); }
std::string Statement::column_name(int col) const {
  const char* n = sqlite3_column_name(stmt_, col);
  return n ? n : "";
}

// ---- Database ---------------------------------------------------------------------------

Database Database::open(const std::filesystem::path& path, Mode mode) {
  // SQLite's memory statistics take a process-wide mutex on every allocation (7% of a large
  // poll's store time); nothing here reads them. Only possible before SQLite initializes, so
  // once, before the first connection; harmless (SQLITE_MISUSE) if someone initialized it first.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* raw = nullptr;
  int flags =
      SQLITE_OPEN_NOMUTEX |
      (mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw, path);  // owns raw even on failure
  if (rc != SQLITE_OK) throw_db(raw, "cannot open database " + path.string());
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  if (mode == Mode::kReadWrite) {
    db.exec("PRAGMA journal_mode=WAL");
    int persist = 1;
    sqlite3_file_control(raw, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  }
  db.exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL");
  return db;
}

Database::Database(Database&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)) {}

Database& Database::operator=(Database&& o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
    path_ = std::move(o.path_);
  }
  return *this;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Statement Database::prepare(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK)
    throw_db(db_, "prepare [" + std::string(sql) + "]");
  return Statement(db_, stmt);
}

void Database::exec(std::string_view sql) const {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw DbError(path_.string() + ": " + msg + " [" + s.substr(0, 200) + "]",
                  sqlite3_extended_errcode(db_));
  }
}

int Database::user_version() const {
  Statement st = prepare("PRAGMA user_version");
  st.step();
  return static_cast<int>(st.column_int(0));
}

void Database::migrate(const std::vector<Migration>& migrations) const {
  int have = user_version();
  if (have > static_cast<int>(migrations.size()))
    throw DbError(path_.string() + ": database schema version " + std::to_string(have) +
                  " is newer than this repwatch understands (" + std::to_string(migrations.size()) +
                  "); upgrade repwatch");
  for (size_t i = static_cast<size_t>(have); i < migrations.size(); ++i) {
    Transaction tx(*this);
    // Another process may have migrated meanwhile: re-check under the write lock.
    if (user_version() > static_cast<int>(i)) continue;
    try {
      exec(migrations[i].sql);
    } catch (const DbError& e) {
      throw DbError(std::string("migration ") + std::to_string(i + 1) + " (" + migrations[i].name +
                    ") failed: " + e.what());
    }
    exec("PRAGMA user_version=" + std::to_string(i + 1));
    tx.commit();
  }
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

// ---- Transaction ------------------------------------------------------------------------

Transaction::Transaction(const Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

Savepoint::Savepoint(const Database& db) : db_(db) { db_.exec("SAVEPOINT repwatch_record"); }

Savepoint::~Savepoint() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK TO repwatch_record; RELEASE repwatch_record");
    } catch (...) {
    }
  }
}

void Savepoint::release() {
  db_.exec("RELEASE repwatch_record");
  done_ = true;
}

bool is_record_error(const DbError& e) {
  switch (e.code() & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
      return true;
    default:
      return false;
  }
}

}  // namespace repwatch::db
