#include "host/registry/sqlite.h"

#include <algorithm>

namespace wick::registry {

namespace {
Error sqliteError(sqlite3* db, const std::string& what) {
  return Error("sqlite " + what + ": " + sqlite3_errmsg(db), EIO);
}
}  // namespace

Statement& Statement::bind(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::bindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}
Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bindNull(index);
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqliteError(db_, "step");
}

Status Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return std::move(row).error();
    if (!*row) return {};
  }
}

std::string Statement::text(int column) const {
  const unsigned char* value = sqlite3_column_text(stmt_, column);
  if (value == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(value),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}
int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}
bool Statement::isNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<Database> Database::open(const std::string& path, Sync sync) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error error("open database " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"), EIO);
    sqlite3_close_v2(db);
    return error;
  }
  sqlite3_busy_timeout(db, 5000);
  Database database(db, path);
  WICK_TRY(database.exec(std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                         (sync == Sync::kFull ? "FULL" : "NORMAL") + "; PRAGMA foreign_keys=ON;"),
           "open database " + path);
  return database;
}

Result<int64_t> Database::storedVersion(std::string_view component, Legacy legacy) {
  WICK_TRY(exec("CREATE TABLE IF NOT EXISTS schema_versions ("
                "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"),
           "create schema_versions");
  auto stored =
      scalar("SELECT version FROM schema_versions WHERE component = ?", std::string(component));
  if (!stored) return std::move(stored).error();
  if (legacy == Legacy::kNone) return stored->value_or(0);
  auto user_version = scalar("PRAGMA user_version");
  if (!user_version) return std::move(user_version).error();
  // The larger: an older wickd may have migrated user_version alone.
  return std::max(stored->value_or(0), user_version->value_or(0));
}

Status Database::migrate(std::string_view component, std::span<const char* const> steps,
                         Legacy legacy) {
  const std::string what = "migrate " + std::string(component) + " in " + path_;
  auto version = storedVersion(component, legacy);
  if (!version) return std::move(version).error().context(what);
  const auto latest = static_cast<int64_t>(steps.size());
  if (*version > latest)
    return Error(std::string(component) + " in " + path_ + " has schema version " +
                     std::to_string(*version) + ", newer than this wickd knows (" +
                     std::to_string(latest) + ")",
                 EPROTO);
  for (int64_t from = *version; from < latest; ++from) {
    const int64_t to = from + 1;
    Status stepped = transaction([&]() -> Status {
      WICK_TRY(exec(steps[static_cast<size_t>(from)]), "step " + std::to_string(to));
      auto recorded = execute(
          "INSERT INTO schema_versions (component, version) VALUES (?1, ?2) "
          "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
          std::string(component), to);
      if (!recorded) return std::move(recorded).error();
      if (legacy == Legacy::kUserVersion)
        WICK_TRY(exec("PRAGMA user_version = " + std::to_string(to)), "set user_version");
      return {};
    });
    WICK_TRY(std::move(stepped), what + " to schema " + std::to_string(to));
  }
  // A legacy file already at the latest version gets its row now.
  WICK_TRY(execute("INSERT OR IGNORE INTO schema_versions (component, version) VALUES (?1, ?2)",
                   std::string(component), latest),
           what);
  return {};
}

Status Database::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Error error(std::string("sqlite exec: ") + (message ? message : "unknown error"), EIO);
    sqlite3_free(message);
    return error;
  }
  return {};
}

Result<Statement> Database::prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK)
    return sqliteError(db_, "prepare '" + sql + "'");
  return Statement(db_, stmt);
}

}  // namespace wick::registry
