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

// Writes `sql` with the record's columns bound to ?1..?13 (kColumns' order).
Result<int64_t> executeWithRecord(Database& db, const std::string& sql,
                                  const FunctionRecord& record) {
  return db.execute(sql, record.name, record.config.toJson().dump(), record.code_sha256,
                    record.code_size, record.revision_id, record.last_modified,
                    record.reserved_concurrency, record.tags.dump(), record.state,
                    record.state_reason, record.state_reason_code, record.last_update_status,
                    record.internal.dump());
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

// Whether a write changed exactly one row.
Result<bool> changedOne(Result<int64_t> changed) {
  if (!changed) return std::move(changed).error();
  return *changed == 1;
}

// A single number (COUNT, SUM); 0 without one.
Result<int64_t> orZero(Result<std::optional<int64_t>> value) {
  if (!value) return std::move(value).error();
  return value->value_or(0);
}

// A write whose row count does not matter.
Status done(Result<int64_t> written) {
  if (!written) return std::move(written).error();
  return {};
}

std::string quoted(const std::string& name) {
  return "'" + name + "'";
}

// Rows.

Result<FunctionRecord> readFunction(Statement& statement) {
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
  return record;
}

Result<VersionRecord> readVersion(Statement& statement) {
  VersionRecord version;
  version.number = statement.integer(0);
  auto record = fromJson(nlohmann::json::parse(statement.text(1), nullptr, false));
  if (!record)
    return Error("version " + std::to_string(version.number) + ": stored JSON is corrupt", EIO);
  version.record = std::move(*record);
  version.record.version = std::to_string(version.number);
  return version;
}

constexpr const char* kAliasColumns =
    "function, name, function_version, description, routing, revision_id";

Result<AliasRecord> readAlias(Statement& statement) {
  AliasRecord alias{statement.text(0),
                    statement.text(1),
                    statement.text(2),
                    statement.text(3),
                    nlohmann::json::parse(statement.text(4), nullptr, false),
                    statement.text(5)};
  if (alias.routing.is_discarded())
    return Error("alias " + alias.name + ": stored JSON is corrupt", EIO);
  return alias;
}

constexpr const char* kLayerColumns =
    "name, version, description, compatible_runtimes, compatible_architectures, license_info, "
    "code_sha256, code_size, unpacked_size, created_date, deleted";

Result<LayerVersionRecord> readLayer(Statement& statement) {
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
  return layer;
}

const std::string kSelectFunctions = std::string("SELECT ") + kColumns + " FROM functions";
const std::string kSelectVersions = "SELECT version, record FROM function_versions";
const std::string kSelectAliases = std::string("SELECT ") + kAliasColumns + " FROM aliases";
const std::string kSelectLayers = std::string("SELECT ") + kLayerColumns + " FROM layer_versions";

}  // namespace

Result<std::unique_ptr<SqliteRegistry>> SqliteRegistry::open(const std::string& path) {
  auto db = Database::open(path);
  if (!db) return std::move(db).error().context("open registry");
  WICK_TRY(db->migrate("registry", kMigrations, Database::Legacy::kUserVersion), "open registry");
  return std::unique_ptr<SqliteRegistry>(new SqliteRegistry(std::move(*db)));
}

// Functions.

Result<std::optional<FunctionRecord>> SqliteRegistry::get(const std::string& name) {
  return in("get function " + quoted(name),
            db_.first(kSelectFunctions + " WHERE name = ?", readFunction, name));
}

Result<bool> SqliteRegistry::insert(const FunctionRecord& record) {
  return in("insert function " + quoted(record.name),
            changedOne(executeWithRecord(db_,
                                         std::string("INSERT OR IGNORE INTO functions (") +
                                             kColumns + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                         record)));
}

Status SqliteRegistry::update(const FunctionRecord& record) {
  return in("update function " + quoted(record.name),
            done(executeWithRecord(
                db_,
                "UPDATE functions SET settings=?2, code_sha256=?3, code_size=?4, "
                "revision_id=?5, last_modified=?6, reserved_concurrency=?7, tags=?8, "
                "state=?9, state_reason=?10, state_reason_code=?11, last_update_status=?12, "
                "internal=?13 WHERE name=?1",
                record)));
}

Result<bool> SqliteRegistry::remove(const std::string& name) {
  return in("delete function " + quoted(name),
            changedOne(db_.execute("DELETE FROM functions WHERE name = ?", name)));
}

Result<std::vector<FunctionRecord>> SqliteRegistry::list(const std::string& marker, int64_t limit) {
  return in("list functions after " + quoted(marker),
            db_.rows(kSelectFunctions + " WHERE name > ? ORDER BY name LIMIT ?", readFunction,
                     marker, limit));
}

Result<int64_t> SqliteRegistry::count() {
  return in("count functions", orZero(db_.scalar("SELECT COUNT(*) FROM functions")));
}

Result<int64_t> SqliteRegistry::totalCodeSize() {
  return in("sum the code sizes",
            orZero(db_.scalar("SELECT COALESCE(SUM(code_size), 0) FROM functions")));
}

Result<int64_t> SqliteRegistry::reservedConcurrencyExcept(const std::string& name) {
  return in(
      "sum the reserved concurrency",
      orZero(db_.scalar(
          "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM functions WHERE name != ?", name)));
}

Result<int64_t> SqliteRegistry::functionsUsingCode(const std::string& code_sha256) {
  return in("count the users of code " + code_sha256,
            orZero(db_.scalar("SELECT (SELECT COUNT(*) FROM functions WHERE code_sha256 = ?1) + "
                              "(SELECT COUNT(*) FROM function_versions "
                              "WHERE json_extract(record, '$.code_sha256') = ?1)",
                              code_sha256)));
}

// Versions.

Result<std::vector<VersionRecord>> SqliteRegistry::versions(const std::string& function) {
  return in(
      "list versions of " + quoted(function),
      db_.rows(kSelectVersions + " WHERE function = ? ORDER BY version", readVersion, function));
}

Result<std::optional<VersionRecord>> SqliteRegistry::version(const std::string& function,
                                                             int64_t number) {
  return in("get version " + std::to_string(number) + " of " + quoted(function),
            db_.first(kSelectVersions + " WHERE function = ? AND version = ?", readVersion,
                      function, number));
}

Status SqliteRegistry::insertVersion(const VersionRecord& version) {
  const std::string record = toJson(version.record).dump();
  return in(
      "insert version " + std::to_string(version.number) + " of " + quoted(version.record.name),
      done(db_.execute("INSERT INTO function_versions (function, version, record) VALUES (?,?,?)",
                       version.record.name, version.number, record)));
}

Result<bool> SqliteRegistry::removeVersion(const std::string& function, int64_t number) {
  return in(
      "delete version " + std::to_string(number) + " of " + quoted(function),
      changedOne(db_.execute("DELETE FROM function_versions WHERE function = ? AND version = ?",
                             function, number)));
}

Status SqliteRegistry::removeVersionsAndAliases(const std::string& function) {
  for (const char* sql : {"DELETE FROM function_versions WHERE function = ?",
                          "DELETE FROM aliases WHERE function = ?"})
    if (auto removed = changedOne(db_.execute(sql, function)); !removed)
      return std::move(removed).error().context("delete versions and aliases of " +
                                                quoted(function));
  return {};
}

// Aliases.

Result<std::vector<AliasRecord>> SqliteRegistry::aliases(const std::string& function) {
  return in("list aliases of " + quoted(function),
            db_.rows(kSelectAliases + " WHERE function = ? ORDER BY name", readAlias, function));
}

Result<std::optional<AliasRecord>> SqliteRegistry::alias(const std::string& function,
                                                         const std::string& name) {
  return in(
      "get alias " + quoted(name) + " of " + quoted(function),
      db_.first(kSelectAliases + " WHERE function = ? AND name = ?", readAlias, function, name));
}

Result<bool> SqliteRegistry::insertAlias(const AliasRecord& alias) {
  const std::string routing = alias.routing.dump();
  return in("insert alias " + quoted(alias.name) + " of " + quoted(alias.function),
            changedOne(db_.execute(std::string("INSERT OR IGNORE INTO aliases (") + kAliasColumns +
                                       ") VALUES (?,?,?,?,?,?)",
                                   alias.function, alias.name, alias.function_version,
                                   alias.description, routing, alias.revision_id)));
}

Status SqliteRegistry::updateAlias(const AliasRecord& alias) {
  const std::string routing = alias.routing.dump();
  return in(
      "update alias " + quoted(alias.name) + " of " + quoted(alias.function),
      done(db_.execute("UPDATE aliases SET function_version = ?3, description = ?4, routing = ?5, "
                       "revision_id = ?6 WHERE function = ?1 AND name = ?2",
                       alias.function, alias.name, alias.function_version, alias.description,
                       routing, alias.revision_id)));
}

Result<bool> SqliteRegistry::removeAlias(const std::string& function, const std::string& name) {
  return in("delete alias " + quoted(name) + " of " + quoted(function),
            changedOne(db_.execute("DELETE FROM aliases WHERE function = ? AND name = ?", function,
                                   name)));
}

// Layers.

Result<std::vector<LayerVersionRecord>> SqliteRegistry::layerVersions(const std::string& name) {
  return in("list versions of layer " + quoted(name),
            db_.rows(kSelectLayers + " WHERE name = ? ORDER BY version DESC", readLayer, name));
}

Result<std::vector<LayerVersionRecord>> SqliteRegistry::allLayerVersions() {
  return in("list all layer versions",
            db_.rows(kSelectLayers + " ORDER BY name, version DESC", readLayer));
}

Result<std::optional<LayerVersionRecord>> SqliteRegistry::layerVersion(const std::string& name,
                                                                       int64_t version) {
  return in("get layer " + quoted(name) + " version " + std::to_string(version),
            db_.first(kSelectLayers + " WHERE name = ? AND version = ?", readLayer, name, version));
}

Status SqliteRegistry::insertLayerVersion(const LayerVersionRecord& layer) {
  const std::string runtimes = layer.compatible_runtimes.dump();
  const std::string architectures = layer.compatible_architectures.dump();
  const int64_t deleted = layer.deleted ? 1 : 0;
  return in("insert layer " + quoted(layer.name) + " version " + std::to_string(layer.version),
            done(db_.execute(std::string("INSERT INTO layer_versions (") + kLayerColumns +
                                 ") VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             layer.name, layer.version, layer.description, runtimes, architectures,
                             layer.license_info, layer.code_sha256, layer.code_size,
                             layer.unpacked_size, layer.created_date, deleted)));
}

Status SqliteRegistry::markLayerVersionDeleted(const std::string& name, int64_t version) {
  return in("delete layer " + quoted(name) + " version " + std::to_string(version),
            done(db_.execute("UPDATE layer_versions SET deleted = 1 WHERE name = ? AND version = ?",
                             name, version)));
}

Result<int64_t> SqliteRegistry::functionsUsingLayer(const std::string& layer_version_arn) {
  return in("count the users of layer " + layer_version_arn,
            orZero(db_.scalar(
                "SELECT (SELECT COUNT(*) FROM functions, json_each(functions.internal, "
                "'$.Layers') AS l WHERE json_extract(l.value, '$.Arn') = ?1) + "
                "(SELECT COUNT(*) FROM function_versions, json_each(function_versions.record, "
                "'$.internal.Layers') AS l WHERE json_extract(l.value, '$.Arn') = ?1)",
                layer_version_arn)));
}

Result<std::vector<std::string>> SqliteRegistry::imageDigestsInUse() {
  return in(
      "list the image digests in use",
      db_.rows("SELECT json_extract(internal, '$.ImageDigest') FROM functions "
               "WHERE json_extract(internal, '$.ImageDigest') IS NOT NULL UNION "
               "SELECT json_extract(record, '$.internal.ImageDigest') FROM function_versions "
               "WHERE json_extract(record, '$.internal.ImageDigest') IS NOT NULL",
               [](Statement& statement) -> Result<std::string> { return statement.text(0); }));
}

}  // namespace wick::registry
