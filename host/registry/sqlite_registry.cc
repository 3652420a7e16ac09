#include "host/registry/sqlite_registry.h"

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
    // Versions, aliases, layers; `internal` holds image and layer references.
    R"(ALTER TABLE functions ADD COLUMN internal TEXT NOT NULL DEFAULT '{}';
       CREATE TABLE function_versions (
         function TEXT NOT NULL,
         version INTEGER NOT NULL,
         record TEXT NOT NULL,
         PRIMARY KEY (function, version));
       CREATE TABLE aliases (
         function TEXT NOT NULL,
         name TEXT NOT NULL,
         function_version TEXT NOT NULL,
         description TEXT NOT NULL,
         routing TEXT NOT NULL,
         revision_id TEXT NOT NULL,
         PRIMARY KEY (function, name));
       CREATE TABLE layer_versions (
         name TEXT NOT NULL,
         version INTEGER NOT NULL,
         description TEXT NOT NULL,
         compatible_runtimes TEXT NOT NULL,
         compatible_architectures TEXT NOT NULL,
         license_info TEXT NOT NULL,
         code_sha256 TEXT NOT NULL,
         code_size INTEGER NOT NULL,
         unpacked_size INTEGER NOT NULL,
         created_date TEXT NOT NULL,
         deleted INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (name, version));)",
};

constexpr const char* kColumns =
    "name, settings, code_sha256, code_size, revision_id, last_modified, reserved_concurrency, "
    "tags, state, state_reason, state_reason_code, last_update_status, internal";

void bindRecord(Statement& statement, const FunctionRecord& record) {
  statement.bind(1, record.name)
      .bind(2, record.config.toJson().dump())
      .bind(3, record.code_sha256)
      .bind(4, record.code_size)
      .bind(5, record.revision_id)
      .bind(6, record.last_modified)
      .bind(7, record.reserved_concurrency)
      .bind(8, record.tags.dump())
      .bind(9, record.state)
      .bind(10, record.state_reason)
      .bind(11, record.state_reason_code)
      .bind(12, record.last_update_status)
      .bind(13, record.internal.dump());
}

// A published version's snapshot: the whole record as JSON.
nlohmann::json toJson(const FunctionRecord& record) {
  nlohmann::json json = {{"name", record.name},
                         {"settings", record.config.toJson()},
                         {"code_sha256", record.code_sha256},
                         {"code_size", record.code_size},
                         {"revision_id", record.revision_id},
                         {"last_modified", record.last_modified},
                         {"state", record.state},
                         {"last_update_status", record.last_update_status},
                         {"internal", record.internal}};
  return json;
}

std::optional<FunctionRecord> fromJson(const nlohmann::json& json) {
  if (!json.is_object()) return std::nullopt;
  try {
    FunctionRecord record;
    record.name = json.at("name").get<std::string>();
    auto config = FunctionConfig::fromJson(json.at("settings"));
    if (!config) return std::nullopt;
    record.config = std::move(*config);
    record.code_sha256 = json.at("code_sha256").get<std::string>();
    record.code_size = json.at("code_size").get<int64_t>();
    record.revision_id = json.at("revision_id").get<std::string>();
    record.last_modified = json.at("last_modified").get<std::string>();
    record.state = json.value("state", "Active");
    record.last_update_status = json.value("last_update_status", "Successful");
    record.internal = json.value("internal", nlohmann::json::object());
    return record;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Result<bool> changedOneRow(Database& db) {
  auto changes = db.prepare("SELECT changes()");
  if (!changes) return std::move(changes).error();
  (void)changes->step();
  return changes->integer(0) == 1;
}

}  // namespace

Result<std::unique_ptr<SqliteRegistry>> SqliteRegistry::open(const std::string& path) {
  auto db = Database::open(path);
  if (!db) return std::move(db).error().context("open registry");
  auto version_query = db->prepare("PRAGMA user_version");
  if (!version_query) return std::move(version_query).error().context("open registry");
  auto has_row = version_query->step();
  if (!has_row) return std::move(has_row).error().context("open registry");
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
  return std::unique_ptr<SqliteRegistry>(new SqliteRegistry(std::move(*db)));
}

Result<std::vector<FunctionRecord>> SqliteRegistry::query(Statement statement) {
  std::vector<FunctionRecord> records;
  for (;;) {
    auto row = statement.step();
    if (!row) return std::move(row).error().context("read functions");
    if (!*row) break;
    FunctionRecord record;
    record.name = statement.text(0);
    const auto settings = nlohmann::json::parse(statement.text(1), nullptr, false);
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
    record.internal = nlohmann::json::parse(statement.text(12), nullptr, false);
    if (settings.is_discarded() || record.tags.is_discarded() || record.internal.is_discarded())
      return Error("function " + record.name + ": stored JSON is corrupt", EIO);
    auto config = FunctionConfig::fromJson(settings);
    if (!config) return std::move(config).error().context("function " + record.name);
    record.config = std::move(*config);
    records.push_back(std::move(record));
  }
  return records;
}

Result<std::optional<FunctionRecord>> SqliteRegistry::get(const std::string& name) {
  auto statement =
      db_.prepare(std::string("SELECT ") + kColumns + " FROM functions WHERE name = ?");
  if (!statement) return std::move(statement).error().context("get function");
  statement->bind(1, name);
  auto records = query(std::move(*statement));
  if (!records) return std::move(records).error().context("get function");
  if (records->empty()) return std::optional<FunctionRecord>();
  return std::optional<FunctionRecord>(std::move(records->front()));
}

Result<bool> SqliteRegistry::insert(const FunctionRecord& record) {
  auto statement = db_.prepare(std::string("INSERT OR IGNORE INTO functions (") + kColumns +
                               ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!statement) return std::move(statement).error().context("insert function");
  bindRecord(*statement, record);
  WICK_TRY(statement->run(), "insert function " + record.name);
  auto changes = db_.prepare("SELECT changes()");
  if (!changes) return std::move(changes).error().context("insert function");
  (void)changes->step();
  return changes->integer(0) == 1;
}

Status SqliteRegistry::update(const FunctionRecord& record) {
  auto statement = db_.prepare(
      "UPDATE functions SET settings=?2, code_sha256=?3, code_size=?4, revision_id=?5, "
      "last_modified=?6, reserved_concurrency=?7, tags=?8, state=?9, state_reason=?10, "
      "state_reason_code=?11, last_update_status=?12, internal=?13 WHERE name=?1");
  if (!statement) return std::move(statement).error().context("update function");
  bindRecord(*statement, record);
  WICK_TRY(statement->run(), "update function " + record.name);
  return {};
}

Result<bool> SqliteRegistry::remove(const std::string& name) {
  auto statement = db_.prepare("DELETE FROM functions WHERE name = ?");
  if (!statement) return std::move(statement).error().context("delete function");
  statement->bind(1, name);
  WICK_TRY(statement->run(), "delete function " + name);
  auto changes = db_.prepare("SELECT changes()");
  if (!changes) return std::move(changes).error().context("delete function");
  (void)changes->step();
  return changes->integer(0) == 1;
}

Result<std::vector<FunctionRecord>> SqliteRegistry::list(const std::string& marker, int64_t limit) {
  auto statement = db_.prepare(std::string("SELECT ") + kColumns +
                               " FROM functions WHERE name > ? ORDER BY name LIMIT ?");
  if (!statement) return std::move(statement).error().context("list functions");
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

Result<int64_t> SqliteRegistry::count() {
  return scalar(db_, "SELECT COUNT(*) FROM functions");
}
Result<int64_t> SqliteRegistry::totalCodeSize() {
  return scalar(db_, "SELECT COALESCE(SUM(code_size), 0) FROM functions");
}
Result<int64_t> SqliteRegistry::reservedConcurrencyExcept(const std::string& name) {
  return scalar(db_, "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM functions WHERE name != ?",
                name, true);
}
Result<int64_t> SqliteRegistry::functionsUsingCode(const std::string& code_sha256) {
  return scalar(db_,
                "SELECT (SELECT COUNT(*) FROM functions WHERE code_sha256 = ?1) + "
                "(SELECT COUNT(*) FROM function_versions "
                "WHERE json_extract(record, '$.code_sha256') = ?1)",
                code_sha256, true);
}

// Versions.

namespace {
Result<std::vector<VersionRecord>> queryVersions(Statement statement) {
  std::vector<VersionRecord> versions;
  for (;;) {
    auto row = statement.step();
    if (!row) return std::move(row).error().context("read versions");
    if (!*row) break;
    VersionRecord version;
    version.number = statement.integer(0);
    auto record = fromJson(nlohmann::json::parse(statement.text(1), nullptr, false));
    if (!record)
      return Error("version " + std::to_string(version.number) + ": stored JSON is corrupt", EIO);
    version.record = std::move(*record);
    version.record.version = std::to_string(version.number);
    versions.push_back(std::move(version));
  }
  return versions;
}
}  // namespace

Result<std::vector<VersionRecord>> SqliteRegistry::versions(const std::string& function) {
  auto statement = db_.prepare(
      "SELECT version, record FROM function_versions WHERE function = ? ORDER BY version");
  if (!statement) return std::move(statement).error().context("list versions");
  statement->bind(1, function);
  return queryVersions(std::move(*statement));
}

Result<std::optional<VersionRecord>> SqliteRegistry::version(const std::string& function,
                                                             int64_t number) {
  auto statement = db_.prepare(
      "SELECT version, record FROM function_versions WHERE function = ? AND version = ?");
  if (!statement) return std::move(statement).error().context("get version");
  statement->bind(1, function).bind(2, number);
  auto versions = queryVersions(std::move(*statement));
  if (!versions) return std::move(versions).error().context("get version");
  if (versions->empty()) return std::optional<VersionRecord>();
  return std::optional<VersionRecord>(std::move(versions->front()));
}

Status SqliteRegistry::insertVersion(const VersionRecord& version) {
  auto statement =
      db_.prepare("INSERT INTO function_versions (function, version, record) VALUES (?,?,?)");
  if (!statement) return std::move(statement).error().context("insert version");
  statement->bind(1, version.record.name)
      .bind(2, version.number)
      .bind(3, toJson(version.record).dump());
  WICK_TRY(statement->run(),
           "insert version " + std::to_string(version.number) + " of " + version.record.name);
  return {};
}

Result<bool> SqliteRegistry::removeVersion(const std::string& function, int64_t number) {
  auto statement = db_.prepare("DELETE FROM function_versions WHERE function = ? AND version = ?");
  if (!statement) return std::move(statement).error().context("delete version");
  statement->bind(1, function).bind(2, number);
  WICK_TRY(statement->run(), "delete version " + std::to_string(number) + " of " + function);
  return changedOneRow(db_);
}

Status SqliteRegistry::removeVersionsAndAliases(const std::string& function) {
  for (const char* sql : {"DELETE FROM function_versions WHERE function = ?",
                          "DELETE FROM aliases WHERE function = ?"}) {
    auto statement = db_.prepare(sql);
    if (!statement) return std::move(statement).error().context("delete versions and aliases");
    statement->bind(1, function);
    WICK_TRY(statement->run(), "delete versions and aliases of " + function);
  }
  return {};
}

// Aliases.

namespace {
Result<std::vector<AliasRecord>> queryAliases(Statement statement) {
  std::vector<AliasRecord> aliases;
  for (;;) {
    auto row = statement.step();
    if (!row) return std::move(row).error().context("read aliases");
    if (!*row) break;
    AliasRecord alias{statement.text(0),
                      statement.text(1),
                      statement.text(2),
                      statement.text(3),
                      nlohmann::json::parse(statement.text(4), nullptr, false),
                      statement.text(5)};
    if (alias.routing.is_discarded())
      return Error("alias " + alias.name + ": stored JSON is corrupt", EIO);
    aliases.push_back(std::move(alias));
  }
  return aliases;
}
constexpr const char* kAliasColumns =
    "function, name, function_version, description, routing, revision_id";
}  // namespace

Result<std::vector<AliasRecord>> SqliteRegistry::aliases(const std::string& function) {
  auto statement = db_.prepare(std::string("SELECT ") + kAliasColumns +
                               " FROM aliases WHERE function = ? ORDER BY name");
  if (!statement) return std::move(statement).error().context("list aliases");
  statement->bind(1, function);
  return queryAliases(std::move(*statement));
}

Result<std::optional<AliasRecord>> SqliteRegistry::alias(const std::string& function,
                                                         const std::string& name) {
  auto statement = db_.prepare(std::string("SELECT ") + kAliasColumns +
                               " FROM aliases WHERE function = ? AND name = ?");
  if (!statement) return std::move(statement).error().context("get alias");
  statement->bind(1, function).bind(2, name);
  auto aliases = queryAliases(std::move(*statement));
  if (!aliases) return std::move(aliases).error().context("get alias");
  if (aliases->empty()) return std::optional<AliasRecord>();
  return std::optional<AliasRecord>(std::move(aliases->front()));
}

Result<bool> SqliteRegistry::insertAlias(const AliasRecord& alias) {
  auto statement = db_.prepare(std::string("INSERT OR IGNORE INTO aliases (") + kAliasColumns +
                               ") VALUES (?,?,?,?,?,?)");
  if (!statement) return std::move(statement).error().context("insert alias");
  statement->bind(1, alias.function)
      .bind(2, alias.name)
      .bind(3, alias.function_version)
      .bind(4, alias.description)
      .bind(5, alias.routing.dump())
      .bind(6, alias.revision_id);
  WICK_TRY(statement->run(), "insert alias " + alias.name + " of " + alias.function);
  return changedOneRow(db_);
}

Status SqliteRegistry::updateAlias(const AliasRecord& alias) {
  auto statement = db_.prepare(
      "UPDATE aliases SET function_version = ?3, description = ?4, routing = ?5, "
      "revision_id = ?6 WHERE function = ?1 AND name = ?2");
  if (!statement) return std::move(statement).error().context("update alias");
  statement->bind(1, alias.function)
      .bind(2, alias.name)
      .bind(3, alias.function_version)
      .bind(4, alias.description)
      .bind(5, alias.routing.dump())
      .bind(6, alias.revision_id);
  WICK_TRY(statement->run(), "update alias " + alias.name + " of " + alias.function);
  return {};
}

Result<bool> SqliteRegistry::removeAlias(const std::string& function, const std::string& name) {
  auto statement = db_.prepare("DELETE FROM aliases WHERE function = ? AND name = ?");
  if (!statement) return std::move(statement).error().context("delete alias");
  statement->bind(1, function).bind(2, name);
  WICK_TRY(statement->run(), "delete alias " + name + " of " + function);
  return changedOneRow(db_);
}

// Layers.

namespace {
constexpr const char* kLayerColumns =
    "name, version, description, compatible_runtimes, compatible_architectures, license_info, "
    "code_sha256, code_size, unpacked_size, created_date, deleted";

Result<std::vector<LayerVersionRecord>> queryLayers(Statement statement) {
  std::vector<LayerVersionRecord> layers;
  for (;;) {
    auto row = statement.step();
    if (!row) return std::move(row).error().context("read layer versions");
    if (!*row) break;
    LayerVersionRecord layer;
    layer.name = statement.text(0);
    layer.version = statement.integer(1);
    layer.description = statement.text(2);
    layer.compatible_runtimes = nlohmann::json::parse(statement.text(3), nullptr, false);
    layer.compatible_architectures = nlohmann::json::parse(statement.text(4), nullptr, false);
    layer.license_info = statement.text(5);
    layer.code_sha256 = statement.text(6);
    layer.code_size = statement.integer(7);
    layer.unpacked_size = statement.integer(8);
    layer.created_date = statement.text(9);
    layer.deleted = statement.integer(10) != 0;
    if (layer.compatible_runtimes.is_discarded() || layer.compatible_architectures.is_discarded())
      return Error("layer " + layer.name + ": stored JSON is corrupt", EIO);
    layers.push_back(std::move(layer));
  }
  return layers;
}
}  // namespace

Result<std::vector<LayerVersionRecord>> SqliteRegistry::layerVersions(const std::string& name) {
  auto statement = db_.prepare(std::string("SELECT ") + kLayerColumns +
                               " FROM layer_versions WHERE name = ? ORDER BY version DESC");
  if (!statement) return std::move(statement).error().context("list layer versions");
  statement->bind(1, name);
  return queryLayers(std::move(*statement));
}

Result<std::vector<LayerVersionRecord>> SqliteRegistry::allLayerVersions() {
  auto statement = db_.prepare(std::string("SELECT ") + kLayerColumns +
                               " FROM layer_versions ORDER BY name, version DESC");
  if (!statement) return std::move(statement).error().context("list all layer versions");
  return queryLayers(std::move(*statement));
}

Result<std::optional<LayerVersionRecord>> SqliteRegistry::layerVersion(const std::string& name,
                                                                       int64_t version) {
  auto statement = db_.prepare(std::string("SELECT ") + kLayerColumns +
                               " FROM layer_versions WHERE name = ? AND version = ?");
  if (!statement) return std::move(statement).error().context("get layer version");
  statement->bind(1, name).bind(2, version);
  auto layers = queryLayers(std::move(*statement));
  if (!layers) return std::move(layers).error().context("get layer version");
  if (layers->empty()) return std::optional<LayerVersionRecord>();
  return std::optional<LayerVersionRecord>(std::move(layers->front()));
}

Status SqliteRegistry::insertLayerVersion(const LayerVersionRecord& layer) {
  auto statement = db_.prepare(std::string("INSERT INTO layer_versions (") + kLayerColumns +
                               ") VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  if (!statement) return std::move(statement).error().context("insert layer version");
  statement->bind(1, layer.name)
      .bind(2, layer.version)
      .bind(3, layer.description)
      .bind(4, layer.compatible_runtimes.dump())
      .bind(5, layer.compatible_architectures.dump())
      .bind(6, layer.license_info)
      .bind(7, layer.code_sha256)
      .bind(8, layer.code_size)
      .bind(9, layer.unpacked_size)
      .bind(10, layer.created_date)
      .bind(11, static_cast<int64_t>(layer.deleted ? 1 : 0));
  WICK_TRY(statement->run(),
           "insert layer " + layer.name + " version " + std::to_string(layer.version));
  return {};
}

Status SqliteRegistry::markLayerVersionDeleted(const std::string& name, int64_t version) {
  auto statement =
      db_.prepare("UPDATE layer_versions SET deleted = 1 WHERE name = ? AND version = ?");
  if (!statement) return std::move(statement).error().context("delete layer version");
  statement->bind(1, name).bind(2, version);
  WICK_TRY(statement->run(), "delete layer " + name + " version " + std::to_string(version));
  return {};
}

Result<int64_t> SqliteRegistry::functionsUsingLayer(const std::string& layer_version_arn) {
  return scalar(db_,
                "SELECT (SELECT COUNT(*) FROM functions, json_each(functions.internal, "
                "'$.Layers') AS l WHERE json_extract(l.value, '$.Arn') = ?1) + "
                "(SELECT COUNT(*) FROM function_versions, json_each(function_versions.record, "
                "'$.internal.Layers') AS l WHERE json_extract(l.value, '$.Arn') = ?1)",
                layer_version_arn, true);
}

Result<std::vector<std::string>> SqliteRegistry::imageDigestsInUse() {
  auto statement = db_.prepare(
      "SELECT json_extract(internal, '$.ImageDigest') FROM functions "
      "WHERE json_extract(internal, '$.ImageDigest') IS NOT NULL UNION "
      "SELECT json_extract(record, '$.internal.ImageDigest') FROM function_versions "
      "WHERE json_extract(record, '$.internal.ImageDigest') IS NOT NULL");
  if (!statement) return std::move(statement).error().context("list image digests in use");
  std::vector<std::string> digests;
  for (;;) {
    auto row = statement->step();
    if (!row) return std::move(row).error().context("list image digests in use");
    if (!*row) break;
    digests.push_back(statement->text(0));
  }
  return digests;
}

}  // namespace wick::registry
