// The one helper of every SQLite store in host/ (the registry, the function
// URL store, the event queue and EventInvokeConfigs, the schedule store, the
// operator's tunings): the connection opened the same way (WAL, a busy
// timeout, foreign keys), one migration scheme, and each prepared statement
// owned, bound and stepped through one wrapper.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/error.h"

namespace wick::registry {

// `result`, its error said by the operation that failed: "get function 'f': ...".
template <typename T>
Result<T> in(std::string_view operation, Result<T> result) {
  if (!result) return std::move(result).error().context(operation);
  return result;
}

namespace detail {
template <typename T>
struct RowType {
  using type = T;
};
template <typename T>
struct RowType<Result<T>> {
  using type = T;
};
}  // namespace detail

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
  // Binds `args` to ?1, ?2, ... in order.
  template <typename... Args>
  Statement& bindAll(const Args&... args) {
    [[maybe_unused]] int index = 1;
    (bind(index++, args), ...);
    return *this;
  }
  // SQLITE_ROW -> true, SQLITE_DONE -> false.
  Result<bool> step();
  Status run();  // step to completion
  // Ready to bind and step again (bindings cleared).
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // Every row, each read by `read` (Statement& -> Row or Result<Row>).
  template <typename Read>
  auto rows(Read read) -> Result<
      std::vector<typename detail::RowType<std::invoke_result_t<Read, Statement&>>::type>>;
  // The first row, if any.
  template <typename Read>
  auto first(Read read) -> Result<
      std::optional<typename detail::RowType<std::invoke_result_t<Read, Statement&>>::type>>;

  std::string text(int column) const;
  int64_t integer(int column) const;
  bool isNull(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // How durable a commit is. kNormal: WAL's default, a power cut may lose
  // the last commits but never corrupts; kFull: a commit is on disk when it
  // returns (what a store that promises "accepted" needs).
  enum class Sync { kNormal, kFull };
  static Result<Database> open(const std::string& path, Sync sync = Sync::kNormal);
  Database(Database&& other) noexcept : db_(other.db_), path_(std::move(other.path_)) {
    other.db_ = nullptr;
  }
  Database& operator=(Database&&) = delete;
  Database(const Database&) = delete;
  ~Database() { sqlite3_close_v2(db_); }

  // Brings `component`'s tables up to steps.size(): step i upgrades from
  // version i, each in its own transaction. Versions are kept per component
  // in the table schema_versions, so that one file can hold several
  // components (events.db: the queue, EventInvokeConfigs, schedules). A
  // version newer than `steps` knows is refused (EPROTO).
  //
  // kUserVersion: the component kept its version in PRAGMA user_version
  // before schema_versions existed (wick.db); it is read when the component
  // has no row yet, and kept equal, so that an older wickd still refuses a
  // newer file.
  enum class Legacy { kNone, kUserVersion };
  Status migrate(std::string_view component, std::span<const char* const> steps,
                 Legacy legacy = Legacy::kNone);

  Status exec(const std::string& sql);
  Result<Statement> prepare(const std::string& sql);
  // Prepared with `args` bound to ?1, ?2, ...
  template <typename... Args>
  Result<Statement> prepare(const std::string& sql, const Args&... args) {
    auto statement = prepare(sql);
    if (statement) statement->bindAll(args...);
    return statement;
  }
  // Every row of `sql` with `args` bound, each read by `read` (Statement& ->
  // Row or Result<Row>); first: the first row, if any.
  template <typename Read, typename... Args>
  auto rows(const std::string& sql, Read read, const Args&... args)
      -> decltype(std::declval<Statement&>().rows(read)) {
    auto statement = prepare(sql, args...);
    if (!statement) return std::move(statement).error();
    return statement->rows(read);
  }
  template <typename Read, typename... Args>
  auto first(const std::string& sql, Read read, const Args&... args)
      -> decltype(std::declval<Statement&>().first(read)) {
    auto statement = prepare(sql, args...);
    if (!statement) return std::move(statement).error();
    return statement->first(read);
  }
  // A write, run to completion: how many rows it changed.
  template <typename... Args>
  Result<int64_t> execute(const std::string& sql, const Args&... args) {
    auto statement = prepare(sql, args...);
    if (!statement) return std::move(statement).error();
    if (auto ran = statement->run(); !ran) return std::move(ran).error();
    return changes();
  }
  // The first column of the first row as a number; none without a row or
  // for NULL (MIN over no rows).
  template <typename... Args>
  Result<std::optional<int64_t>> scalar(const std::string& sql, const Args&... args) {
    auto statement = prepare(sql, args...);
    if (!statement) return std::move(statement).error();
    auto row = statement->step();
    if (!row) return std::move(row).error();
    if (!*row || statement->isNull(0)) return std::optional<int64_t>();
    return std::optional<int64_t>(statement->integer(0));
  }
  // `work` (-> Status or Result<T>) inside BEGIN IMMEDIATE: committed when
  // it succeeds, rolled back when it fails.
  template <typename Work>
  auto transaction(Work work) -> std::invoke_result_t<Work> {
    if (auto begun = exec("BEGIN IMMEDIATE"); !begun) return std::move(begun).error();
    auto result = work();
    if (!result) {
      (void)exec("ROLLBACK");
      return result;
    }
    if (auto committed = exec("COMMIT"); !committed) {
      (void)exec("ROLLBACK");
      return std::move(committed).error();
    }
    return result;
  }
  // Rows the last INSERT, UPDATE or DELETE changed.
  int changes() const { return sqlite3_changes(db_); }
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<int64_t> storedVersion(std::string_view component, Legacy legacy);
  sqlite3* db_;
  std::string path_;
};

template <typename Read>
auto Statement::rows(Read read)
    -> Result<std::vector<typename detail::RowType<std::invoke_result_t<Read, Statement&>>::type>> {
  using Row = typename detail::RowType<std::invoke_result_t<Read, Statement&>>::type;
  std::vector<Row> rows;
  for (;;) {
    auto has_row = step();
    if (!has_row) return std::move(has_row).error();
    if (!*has_row) return rows;
    if constexpr (std::is_same_v<std::invoke_result_t<Read, Statement&>, Row>) {
      rows.push_back(read(*this));
    } else {
      auto row = read(*this);
      if (!row) return std::move(row).error();
      rows.push_back(std::move(*row));
    }
  }
}

template <typename Read>
auto Statement::first(Read read) -> Result<
    std::optional<typename detail::RowType<std::invoke_result_t<Read, Statement&>>::type>> {
  using Row = typename detail::RowType<std::invoke_result_t<Read, Statement&>>::type;
  auto has_row = step();
  if (!has_row) return std::move(has_row).error();
  if (!*has_row) return std::optional<Row>();
  if constexpr (std::is_same_v<std::invoke_result_t<Read, Statement&>, Row>) {
    return std::optional<Row>(read(*this));
  } else {
    auto row = read(*this);
    if (!row) return std::move(row).error();
    return std::optional<Row>(std::move(*row));
  }
}

}  // namespace wick::registry
