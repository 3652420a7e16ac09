#include "host/registry/function_registry.h"

namespace wick::registry {

namespace {

// Schema versions: each entry upgrades from the version before it.
constexpr const char* kMigrations[] = {
    R"(CREATE TABLE functions (
         name TEXT PRIMARY KEY,
         settings TEXT NOT NULL,
         code_sha256 TEXT NOT NULL,
         code_size INTEGER NOT NULL,
         revision_id TEXT NOT NULL,
         last_modified TEXT NOT NULL,
         reserved_concurrency INTEGER,
         tags TEXT NOT NULL,
         state TEXT NOT NULL,
         state_reason TEXT NOT NULL,
         state_reason_code TEXT NOT NULL,
         last_update_status TEXT NOT NULL);
       CREATE INDEX functions_code ON functions(code_sha256);)",
};

constexpr const char* kColumns =
    "name, settings, code_sha256, code_size, revision_id, last_modified, reserved_concurrency, "
    "tags, state, state_reason, state_reason_code, last_update_status";

void bindRecord(Statement& statement, const FunctionRecord& record) {
  statement.bind(1, record.name)
      .bind(2, record.settings.dump())
      .bind(3, record.code_sha256)
      .bind(4, record.code_size)
      .bind(5, record.revision_id)
      .bind(6, record.last_modified)
      .bind(7, record.reserved_concurrency)
      .bind(8, record.tags.dump())
      .bind(9, record.state)
      .bind(10, record.state_reason)
      .bind(11, record.state_reason_code)
      .bind(12, record.last_update_status);
}

}  // namespace

Result<FunctionRegistry> FunctionRegistry::open(const std::string& path) {
  auto db = Database::open(path);
  if (!db) return std::move(db).error();
  auto version_query = db->prepare("PRAGMA user_version");
  if (!version_query) return std::move(version_query).error();
  auto has_row = version_query->step();
  if (!has_row) return std::move(has_row).error();
  int64_t version = version_query->integer(0);
  const int64_t latest = static_cast<int64_t>(std::size(kMigrations));
  if (version > latest)
    return Error("database " + path + " has schema version " + std::to_string(version) +
                     ", newer than this wickd knows (" + std::to_string(latest) + ")",
                 EPROTO);
  for (; version < latest; ++version) {
    WICK_TRY(db->exec(std::string("BEGIN; ") + kMigrations[version] +
                      "; PRAGMA user_version = " + std::to_string(version + 1) + "; COMMIT;"),
             "migrate " + path + " to schema " + std::to_string(version + 1));
  }
  return FunctionRegistry(std::move(*db));
}

Result<std::vector<FunctionRecord>> FunctionRegistry::query(Statement statement) {
  std::vector<FunctionRecord> records;
  for (;;) {
    auto row = statement.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    FunctionRecord record;
    record.name = statement.text(0);
    record.settings = nlohmann::json::parse(statement.text(1), nullptr, false);
    record.code_sha256 = statement.text(2);
    record.code_size = statement.integer(3);
    record.revision_id = statement.text(4);
    record.last_modified = statement.text(5);
    if (!statement.isNull(6)) record.reserved_concurrency = statement.integer(6);
    record.tags = nlohmann::json::parse(statement.text(7), nullptr, false);
    record.state = statement.text(8);
    record.state_reason = statement.text(9);
    record.state_reason_code = statement.text(10);
    record.last_update_status = statement.text(11);
    if (record.settings.is_discarded() || record.tags.is_discarded())
      return Error("function " + record.name + ": stored JSON is corrupt", EIO);
    records.push_back(std::move(record));
  }
  return records;
}

Result<std::optional<FunctionRecord>> FunctionRegistry::get(const std::string& name) {
  auto statement =
      db_.prepare(std::string("SELECT ") + kColumns + " FROM functions WHERE name = ?");
  if (!statement) return std::move(statement).error();
  statement->bind(1, name);
  auto records = query(std::move(*statement));
  if (!records) return std::move(records).error();
  if (records->empty()) return std::optional<FunctionRecord>();
  return std::optional<FunctionRecord>(std::move(records->front()));
}

Result<bool> FunctionRegistry::insert(const FunctionRecord& record) {
  auto statement = db_.prepare(std::string("INSERT OR IGNORE INTO functions (") + kColumns +
                               ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!statement) return std::move(statement).error();
  bindRecord(*statement, record);
  WICK_TRY(statement->run(), "insert function " + record.name);
  auto changes = db_.prepare("SELECT changes()");
  if (!changes) return std::move(changes).error();
  (void)changes->step();
  return changes->integer(0) == 1;
}

Status FunctionRegistry::update(const FunctionRecord& record) {
  auto statement = db_.prepare(
      "UPDATE functions SET settings=?2, code_sha256=?3, code_size=?4, revision_id=?5, "
      "last_modified=?6, reserved_concurrency=?7, tags=?8, state=?9, state_reason=?10, "
      "state_reason_code=?11, last_update_status=?12 WHERE name=?1");
  if (!statement) return std::move(statement).error();
  bindRecord(*statement, record);
  WICK_TRY(statement->run(), "update function " + record.name);
  return {};
}

Result<bool> FunctionRegistry::remove(const std::string& name) {
  auto statement = db_.prepare("DELETE FROM functions WHERE name = ?");
  if (!statement) return std::move(statement).error();
  statement->bind(1, name);
  WICK_TRY(statement->run(), "delete function " + name);
  auto changes = db_.prepare("SELECT changes()");
  if (!changes) return std::move(changes).error();
  (void)changes->step();
  return changes->integer(0) == 1;
}

Result<std::vector<FunctionRecord>> FunctionRegistry::list(const std::string& marker,
                                                           int64_t limit) {
  auto statement = db_.prepare(std::string("SELECT ") + kColumns +
                               " FROM functions WHERE name > ? ORDER BY name LIMIT ?");
  if (!statement) return std::move(statement).error();
  statement->bind(1, marker).bind(2, limit);
  return query(std::move(*statement));
}

namespace {
Result<int64_t> scalar(Database& db, const std::string& sql, const std::string& argument = "",
                       bool bind = false) {
  auto statement = db.prepare(sql);
  if (!statement) return std::move(statement).error();
  if (bind) statement->bind(1, argument);
  auto row = statement->step();
  if (!row) return std::move(row).error();
  return *row ? statement->integer(0) : 0;
}
}  // namespace

Result<int64_t> FunctionRegistry::count() {
  return scalar(db_, "SELECT COUNT(*) FROM functions");
}
Result<int64_t> FunctionRegistry::totalCodeSize() {
  return scalar(db_, "SELECT COALESCE(SUM(code_size), 0) FROM functions");
}
Result<int64_t> FunctionRegistry::reservedConcurrencyExcept(const std::string& name) {
  return scalar(db_, "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM functions WHERE name != ?",
                name, true);
}
Result<int64_t> FunctionRegistry::functionsUsingCode(const std::string& code_sha256) {
  return scalar(db_, "SELECT COUNT(*) FROM functions WHERE code_sha256 = ?", code_sha256, true);
}

}  // namespace wick::registry
