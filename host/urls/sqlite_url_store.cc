// UrlStore in SQLite (the embedded default): urls.db in the state directory.
#include <mutex>

#include "host/registry/sqlite.h"
#include "host/urls/url_store.h"

namespace wick::urls {

namespace {

using registry::Database;
using registry::in;
using registry::Statement;

// Schema versions (Database::migrate); the first kept IF NOT EXISTS for the
// files made before versions were recorded.
constexpr const char* kMigrations[] = {R"(
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
    PRIMARY KEY (function, qualifier));)"};

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
    auto created = writeConfig(std::string("INSERT OR IGNORE INTO function_urls (") + kColumns +
                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               config);
    if (!created)
      return std::move(created).error().context("create the function URL of " + config.function);
    return *created > 0;
  }

  Status updateUrl(const UrlConfig& config) override {
    std::lock_guard lock(mutex_);
    WICK_TRY(writeConfig("UPDATE function_urls SET url_id = ?3, auth_type = ?4, invoke_mode = ?5, "
                         "cors = ?6, creation_time = ?7, last_modified_time = ?8 "
                         "WHERE function = ?1 AND qualifier = ?2",
                         config),
             "update the function URL of " + config.function);
    return {};
  }

  Result<std::optional<UrlConfig>> url(const std::string& function,
                                       const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    return in("get the function URL of " + function,
              db_.first(std::string("SELECT ") + kColumns +
                            " FROM function_urls WHERE function = ? AND qualifier = ?",
                        readConfig, function, qualifier));
  }

  Result<std::optional<UrlConfig>> urlById(const std::string& url_id) override {
    std::lock_guard lock(mutex_);
    return in("find function URL " + url_id,
              db_.first(std::string("SELECT ") + kColumns + " FROM function_urls WHERE url_id = ?",
                        readConfig, url_id));
  }

  Result<std::vector<UrlConfig>> urls(const std::string& function) override {
    std::lock_guard lock(mutex_);
    return in("list the function URLs of " + function,
              db_.rows(std::string("SELECT ") + kColumns +
                           " FROM function_urls WHERE function = ? ORDER BY qualifier",
                       readConfig, function));
  }

  Result<bool> removeUrl(const std::string& function, const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    auto removed = db_.execute("DELETE FROM function_urls WHERE function = ? AND qualifier = ?",
                               function, qualifier);
    if (!removed)
      return std::move(removed).error().context("delete the function URL of " + function);
    return *removed > 0;
  }

  Result<std::optional<Policy>> policy(const std::string& function,
                                       const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    auto statements = db_.rows(
        "SELECT sid, statement FROM policy_statements WHERE function = ? AND qualifier = ? "
        "ORDER BY added, sid",
        [](const Statement& row) {
          return PolicyStatement{row.text(0), row.text(1)};
        },
        function, qualifier);
    if (!statements) return std::move(statements).error().context("read the policy of " + function);
    if (statements->empty()) return std::optional<Policy>();
    auto revision = db_.first(
        "SELECT revision_id FROM policy_revisions WHERE function = ? AND qualifier = ?",
        [](const Statement& row) { return row.text(0); }, function, qualifier);
    if (!revision)
      return std::move(revision).error().context("read the policy revision of " + function);
    Policy policy;
    policy.statements = std::move(*statements);
    policy.revision_id = revision->value_or("");
    return std::optional<Policy>(std::move(policy));
  }

  Result<bool> addStatement(const std::string& function, const std::string& qualifier,
                            const PolicyStatement& statement,
                            const std::string& revision_id) override {
    std::lock_guard lock(mutex_);
    auto added = db_.execute(
        "INSERT OR IGNORE INTO policy_statements (function, qualifier, sid, statement, added) "
        "VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(added), 0) + 1 FROM policy_statements))",
        function, qualifier, statement.sid, statement.json);
    if (!added)
      return std::move(added).error().context("add statement " + statement.sid +
                                              " to the policy of " + function);
    if (*added == 0) return false;
    WICK_TRY(setRevision(function, qualifier, revision_id), "policy revision of " + function);
    return true;
  }

  Result<bool> removeStatement(const std::string& function, const std::string& qualifier,
                               const std::string& sid, const std::string& revision_id) override {
    std::lock_guard lock(mutex_);
    auto removed = db_.execute(
        "DELETE FROM policy_statements WHERE function = ? AND qualifier = ? AND sid = ?", function,
        qualifier, sid);
    if (!removed)
      return std::move(removed).error().context("remove statement " + sid + " from the policy of " +
                                                function);
    if (*removed == 0) return false;
    WICK_TRY(setRevision(function, qualifier, revision_id), "policy revision of " + function);
    return true;
  }

  Status removeQualifier(const std::string& function, const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    for (const char* table : {"function_urls", "policy_statements", "policy_revisions"})
      WICK_TRY(
          db_.execute(std::string("DELETE FROM ") + table + " WHERE function = ? AND qualifier = ?",
                      function, qualifier),
          std::string("delete from ") + table + " for " + function + ":" + qualifier);
    return {};
  }

  Status removeFunction(const std::string& function) override {
    std::lock_guard lock(mutex_);
    for (const char* table : {"function_urls", "policy_statements", "policy_revisions"})
      WICK_TRY(db_.execute(std::string("DELETE FROM ") + table + " WHERE function = ?", function),
               std::string("delete from ") + table + " for " + function);
    return {};
  }

 private:
  // Writes `sql` with the config's columns bound to ?1..?8 (kColumns' order).
  Result<int64_t> writeConfig(const std::string& sql, const UrlConfig& config) {
    return db_.execute(sql, config.function, config.qualifier, config.url_id, config.auth_type,
                       config.invoke_mode, config.cors_json, config.creation_time,
                       config.last_modified_time);
  }

  Status setRevision(const std::string& function, const std::string& qualifier,
                     const std::string& revision_id) {
    auto set = db_.execute(
        "INSERT OR REPLACE INTO policy_revisions (function, qualifier, revision_id) "
        "VALUES (?, ?, ?)",
        function, qualifier, revision_id);
    if (!set) return std::move(set).error();
    return {};
  }

  std::mutex mutex_;
  Database db_;
};

}  // namespace

Result<std::unique_ptr<UrlStore>> openSqliteUrlStore(const std::string& path) {
  auto db = Database::open(path);
  if (!db) return std::move(db).error().context("open the function URL store");
  WICK_TRY(db->migrate("function_urls", kMigrations), "open the function URL store");
  return std::unique_ptr<UrlStore>(std::make_unique<SqliteUrlStore>(std::move(*db)));
}

}  // namespace wick::urls
