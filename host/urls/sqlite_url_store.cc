// UrlStore in SQLite (the embedded default): urls.db in the state directory.
#include <mutex>

#include "host/registry/sqlite.h"
#include "host/urls/url_store.h"

namespace wick::urls {

namespace {

using registry::Database;
using registry::Statement;

constexpr const char* kSchema = R"(
  CREATE TABLE IF NOT EXISTS function_urls (
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    url_id TEXT NOT NULL UNIQUE,
    auth_type TEXT NOT NULL,
    invoke_mode TEXT NOT NULL,
    cors TEXT NOT NULL,
    creation_time TEXT NOT NULL,
    last_modified_time TEXT NOT NULL,
    PRIMARY KEY (function, qualifier));
  CREATE TABLE IF NOT EXISTS policy_statements (
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    sid TEXT NOT NULL,
    statement TEXT NOT NULL,
    added INTEGER NOT NULL,
    PRIMARY KEY (function, qualifier, sid));
  CREATE TABLE IF NOT EXISTS policy_revisions (
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    PRIMARY KEY (function, qualifier));)";

constexpr const char* kColumns =
    "function, qualifier, url_id, auth_type, invoke_mode, cors, creation_time, last_modified_time";

UrlConfig readConfig(const Statement& row) {
  UrlConfig config;
  config.function = row.text(0);
  config.qualifier = row.text(1);
  config.url_id = row.text(2);
  config.auth_type = row.text(3);
  config.invoke_mode = row.text(4);
  config.cors_json = row.text(5);
  config.creation_time = row.text(6);
  config.last_modified_time = row.text(7);
  return config;
}

class SqliteUrlStore final : public UrlStore {
 public:
  explicit SqliteUrlStore(Database db) : db_(std::move(db)) {}

  Result<bool> createUrl(const UrlConfig& config) override {
    std::lock_guard lock(mutex_);
    auto insert = db_.prepare(std::string("INSERT OR IGNORE INTO function_urls (") + kColumns +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    bindConfig(*insert, config);
    WICK_TRY(insert->run(), "create the function URL of " + config.function);
    return db_.changes() > 0;
  }

  Status updateUrl(const UrlConfig& config) override {
    std::lock_guard lock(mutex_);
    auto update = db_.prepare(
        "UPDATE function_urls SET url_id = ?3, auth_type = ?4, invoke_mode = ?5, cors = ?6, "
        "creation_time = ?7, last_modified_time = ?8 WHERE function = ?1 AND qualifier = ?2");
    if (!update) return std::move(update).error();
    bindConfig(*update, config);
    WICK_TRY(update->run(), "update the function URL of " + config.function);
    return {};
  }

  Result<std::optional<UrlConfig>> url(const std::string& function,
                                       const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(std::string("SELECT ") + kColumns +
                              " FROM function_urls WHERE function = ? AND qualifier = ?");
    if (!select) return std::move(select).error();
    select->bind(1, function).bind(2, qualifier);
    return one(*select, "get the function URL of " + function);
  }

  Result<std::optional<UrlConfig>> urlById(const std::string& url_id) override {
    std::lock_guard lock(mutex_);
    auto select =
        db_.prepare(std::string("SELECT ") + kColumns + " FROM function_urls WHERE url_id = ?");
    if (!select) return std::move(select).error();
    select->bind(1, url_id);
    return one(*select, "find function URL " + url_id);
  }

  Result<std::vector<UrlConfig>> urls(const std::string& function) override {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(std::string("SELECT ") + kColumns +
                              " FROM function_urls WHERE function = ? ORDER BY qualifier");
    if (!select) return std::move(select).error();
    select->bind(1, function);
    std::vector<UrlConfig> configs;
    for (;;) {
      auto row = select->step();
      if (!row) return std::move(row).error().context("list the function URLs of " + function);
      if (!*row) return configs;
      configs.push_back(readConfig(*select));
    }
  }

  Result<bool> removeUrl(const std::string& function, const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    auto remove = db_.prepare("DELETE FROM function_urls WHERE function = ? AND qualifier = ?");
    if (!remove) return std::move(remove).error();
    WICK_TRY(remove->bind(1, function).bind(2, qualifier).run(),
             "delete the function URL of " + function);
    return db_.changes() > 0;
  }

  Result<std::optional<Policy>> policy(const std::string& function,
                                       const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(
        "SELECT sid, statement FROM policy_statements WHERE function = ? AND qualifier = ? "
        "ORDER BY added, sid");
    if (!select) return std::move(select).error();
    select->bind(1, function).bind(2, qualifier);
    Policy policy;
    for (;;) {
      auto row = select->step();
      if (!row) return std::move(row).error().context("read the policy of " + function);
      if (!*row) break;
      policy.statements.push_back({select->text(0), select->text(1)});
    }
    if (policy.statements.empty()) return std::optional<Policy>();
    auto revision = db_.prepare(
        "SELECT revision_id FROM policy_revisions WHERE function = ? AND qualifier = ?");
    if (!revision) return std::move(revision).error();
    revision->bind(1, function).bind(2, qualifier);
    auto row = revision->step();
    if (!row) return std::move(row).error().context("read the policy revision of " + function);
    if (*row) policy.revision_id = revision->text(0);
    return std::optional<Policy>(std::move(policy));
  }

  Result<bool> addStatement(const std::string& function, const std::string& qualifier,
                            const PolicyStatement& statement,
                            const std::string& revision_id) override {
    std::lock_guard lock(mutex_);
    auto insert = db_.prepare(
        "INSERT OR IGNORE INTO policy_statements (function, qualifier, sid, statement, added) "
        "VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(added), 0) + 1 FROM policy_statements))");
    if (!insert) return std::move(insert).error();
    insert->bind(1, function).bind(2, qualifier).bind(3, statement.sid).bind(4, statement.json);
    WICK_TRY(insert->run(), "add statement " + statement.sid + " to the policy of " + function);
    if (db_.changes() == 0) return false;
    WICK_TRY(setRevision(function, qualifier, revision_id), "policy revision of " + function);
    return true;
  }

  Result<bool> removeStatement(const std::string& function, const std::string& qualifier,
                               const std::string& sid, const std::string& revision_id) override {
    std::lock_guard lock(mutex_);
    auto remove = db_.prepare(
        "DELETE FROM policy_statements WHERE function = ? AND qualifier = ? AND sid = ?");
    if (!remove) return std::move(remove).error();
    WICK_TRY(remove->bind(1, function).bind(2, qualifier).bind(3, sid).run(),
             "remove statement " + sid + " from the policy of " + function);
    if (db_.changes() == 0) return false;
    WICK_TRY(setRevision(function, qualifier, revision_id), "policy revision of " + function);
    return true;
  }

  Status removeQualifier(const std::string& function, const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    for (const char* table : {"function_urls", "policy_statements", "policy_revisions"}) {
      auto remove = db_.prepare(std::string("DELETE FROM ") + table +
                                " WHERE function = ? AND qualifier = ?");
      if (!remove) return std::move(remove).error();
      WICK_TRY(remove->bind(1, function).bind(2, qualifier).run(),
               std::string("delete from ") + table + " for " + function + ":" + qualifier);
    }
    return {};
  }

  Status removeFunction(const std::string& function) override {
    std::lock_guard lock(mutex_);
    for (const char* table : {"function_urls", "policy_statements", "policy_revisions"}) {
      auto remove = db_.prepare(std::string("DELETE FROM ") + table + " WHERE function = ?");
      if (!remove) return std::move(remove).error();
      WICK_TRY(remove->bind(1, function).run(),
               std::string("delete from ") + table + " for " + function);
    }
    return {};
  }

 private:
  static void bindConfig(Statement& statement, const UrlConfig& config) {
    statement.bind(1, config.function)
        .bind(2, config.qualifier)
        .bind(3, config.url_id)
        .bind(4, config.auth_type)
        .bind(5, config.invoke_mode)
        .bind(6, config.cors_json)
        .bind(7, config.creation_time)
        .bind(8, config.last_modified_time);
  }

  static Result<std::optional<UrlConfig>> one(Statement& select, const std::string& what) {
    auto row = select.step();
    if (!row) return std::move(row).error().context(what);
    if (!*row) return std::optional<UrlConfig>();
    return std::optional<UrlConfig>(readConfig(select));
  }

  Status setRevision(const std::string& function, const std::string& qualifier,
                     const std::string& revision_id) {
    auto upsert = db_.prepare(
        "INSERT OR REPLACE INTO policy_revisions (function, qualifier, revision_id) "
        "VALUES (?, ?, ?)");
    if (!upsert) return std::move(upsert).error();
    return upsert->bind(1, function).bind(2, qualifier).bind(3, revision_id).run();
  }

  std::mutex mutex_;
  Database db_;
};

}  // namespace

Result<std::unique_ptr<UrlStore>> openSqliteUrlStore(const std::string& path) {
  auto db = Database::open(path);
  if (!db) return std::move(db).error().context("open the function URL store");
  WICK_TRY(db->exec(kSchema), "create the function URL schema in " + path);
  return std::unique_ptr<UrlStore>(std::make_unique<SqliteUrlStore>(std::move(*db)));
}

}  // namespace wick::urls
