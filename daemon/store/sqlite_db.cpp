// SQLite connection, statement and transaction wrappers.
#include "store/sqlite_db.h"

#include <fmt/format.h>

namespace opsync::store {

Db::Db(const std::string& path, Mode mode) : path_(path) {
  const int flags = mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(fmt::format("cannot open database '{}': {}", path, msg), rc);
  }
  sqlite3_extended_result_codes(db_, 1);
  // A concurrent importer or reader may hold the lock briefly; wait rather than fail.
  sqlite3_busy_timeout(db_, 10000);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::fail(int rc, std::string_view context) const {
  throw StoreError(fmt::format("{}: {} ({})", path_, sqlite3_errmsg(db_), context), rc);
}

void Db::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw StoreError(fmt::format("{}: {} (in: {})", path_, msg, s.substr(0, 200)), rc);
  }
}

int64_t Db::query_int(std::string_view sql) {
  Stmt st(*this, sql);
  return st.step() ? st.col_int(0) : 0;
}

Stmt::Stmt(Db& db, std::string_view sql) : db_(db), sql_(sql) {
  const int rc = sqlite3_prepare_v3(db.handle(), sql_.data(), static_cast<int>(sql_.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) db_.fail(rc, "prepare: " + sql_);
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int i, int64_t v) {
  if (int rc = sqlite3_bind_int64(stmt_, i, v); rc != SQLITE_OK) db_.fail(rc, "bind: " + sql_);
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  if (int rc = sqlite3_bind_double(stmt_, i, v); rc != SQLITE_OK) db_.fail(rc, "bind: " + sql_);
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  if (int rc = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      rc != SQLITE_OK)
    db_.fail(rc, "bind: " + sql_);
  return *this;
}
Stmt& Stmt::bind_blob(int i, const void* data, size_t n) {
  if (int rc = sqlite3_bind_blob(stmt_, i, data, static_cast<int>(n), SQLITE_TRANSIENT); rc != SQLITE_OK)
    db_.fail(rc, "bind: " + sql_);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  if (int rc = sqlite3_bind_null(stmt_, i); rc != SQLITE_OK) db_.fail(rc, "bind: " + sql_);
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  db_.fail(rc, "step: " + sql_);
}

void Stmt::run() {
  step();
  reset();
}

void Stmt::reset() { sqlite3_reset(stmt_); }

std::string Stmt::col_text(int i) const {
  const auto* p = sqlite3_column_text(stmt_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
           : std::string();
}

std::string Stmt::col_blob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
           : std::string();
}

Transaction::Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace opsync::store
