// The one owner of a SQLite connection and of each prepared statement.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/error.h"

namespace wick::registry {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, int64_t value);
  Statement& bindNull(int index);
  Statement& bind(int index, const std::optional<int64_t>& value);
  // SQLITE_ROW -> true, SQLITE_DONE -> false.
  Result<bool> step();
  Status run();  // step to completion
  // Ready to bind and step again (bindings cleared).
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::string text(int column) const;
  int64_t integer(int column) const;
  bool isNull(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  static Result<Database> open(const std::string& path);
  Database(Database&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Database& operator=(Database&&) = delete;
  Database(const Database&) = delete;
  ~Database() { sqlite3_close_v2(db_); }

  Status exec(const std::string& sql);
  Result<Statement> prepare(const std::string& sql);
  // Rows the last INSERT, UPDATE or DELETE changed.
  int changes() const { return sqlite3_changes(db_); }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace wick::registry
