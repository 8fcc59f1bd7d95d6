// Thin RAII over the SQLite C API: a connection and prepared statements that throw StoreError
// with SQLite's message and the statement text. Nothing here knows opsync's schema.
#pragma once

#include <cstdint>
#include <sqlite3.h>
#include <stdexcept>
#include <string>
#include <string_view>

namespace opsync::store {

class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& what, int sqlite_code = 0) : std::runtime_error(what), code_(sqlite_code) {}
  int sqlite_code() const { return code_; }
  bool is_busy() const { return (code_ & 0xff) == SQLITE_BUSY || (code_ & 0xff) == SQLITE_LOCKED; }

 private:
  int code_;
};

class Db {
 public:
  enum class Mode { ReadWrite, ReadOnly };
  Db(const std::string& path, Mode mode);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(std::string_view sql);
  int64_t query_int(std::string_view sql);
  void set_busy_timeout(int ms) { sqlite3_busy_timeout(db_, ms); }  // first column of the first row; 0 when no row
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(int rc, std::string_view context) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_blob(int i, const void* data, size_t n);
  Stmt& bind_null(int i);
  // Steps once: true when a row is available, false when done. Throws on error.
  bool step();
  // Steps to completion of a statement that returns no rows, then resets it.
  void run();
  void reset();

  int64_t col_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  double col_double(int i) const { return sqlite3_column_double(stmt_, i); }
  bool col_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string col_text(int i) const;
  std::string col_blob(int i) const;

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// RAII transaction: BEGIN IMMEDIATE on construction, ROLLBACK unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace opsync::store
