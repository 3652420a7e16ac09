// EventInvokeConfigs in SQLite (the embedded default).
#include <mutex>

#include "host/async/event_invoke_config.h"
#include "host/registry/sqlite.h"

namespace wick::async {

namespace {

using registry::Database;
using registry::Statement;

constexpr const char* kSchema = R"(
  CREATE TABLE IF NOT EXISTS event_invoke_configs (
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    maximum_retry_attempts INTEGER,
    maximum_event_age_seconds INTEGER,
    on_success TEXT NOT NULL,
    on_failure TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (function, qualifier));)";

constexpr const char* kColumns =
    "function, qualifier, maximum_retry_attempts, maximum_event_age_seconds, on_success, "
    "on_failure, last_modified_ms";

EventInvokeConfig readConfig(const Statement& row) {
  EventInvokeConfig config;
  config.function = row.text(0);
  config.qualifier = row.text(1);
  if (!row.isNull(2)) config.maximum_retry_attempts = static_cast<int>(row.integer(2));
  if (!row.isNull(3)) config.maximum_event_age_seconds = row.integer(3);
  config.on_success = row.text(4);
  config.on_failure = row.text(5);
  config.last_modified_ms = row.integer(6);
  return config;
}

class SqliteEventInvokeConfigs final : public EventInvokeConfigs {
 public:
  explicit SqliteEventInvokeConfigs(Database db) : db_(std::move(db)) {}

  Status put(const EventInvokeConfig& config) override {
    std::lock_guard lock(mutex_);
    auto insert = db_.prepare(std::string("INSERT OR REPLACE INTO event_invoke_configs (") +
                              kColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    std::optional<int64_t> retries;
    if (config.maximum_retry_attempts) retries = *config.maximum_retry_attempts;
    insert->bind(1, config.function)
        .bind(2, config.qualifier)
        .bind(3, retries)
        .bind(4, config.maximum_event_age_seconds)
        .bind(5, config.on_success)
        .bind(6, config.on_failure)
        .bind(7, config.last_modified_ms);
    WICK_TRY(insert->run(), "put the EventInvokeConfig of " + config.function);
    return {};
  }

  Result<std::optional<EventInvokeConfig>> get(const std::string& function,
                                               const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(std::string("SELECT ") + kColumns +
                              " FROM event_invoke_configs WHERE function = ? AND qualifier = ?");
    if (!select) return std::move(select).error();
    select->bind(1, function).bind(2, qualifier);
    auto row = select->step();
    if (!row) return std::move(row).error().context("get the EventInvokeConfig of " + function);
    if (!*row) return std::optional<EventInvokeConfig>();
    return std::optional<EventInvokeConfig>(readConfig(*select));
  }

  Result<bool> remove(const std::string& function, const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    auto remove =
        db_.prepare("DELETE FROM event_invoke_configs WHERE function = ? AND qualifier = ?");
    if (!remove) return std::move(remove).error();
    WICK_TRY(remove->bind(1, function).bind(2, qualifier).run(),
             "delete the EventInvokeConfig of " + function);
    return db_.changes() > 0;
  }

  Result<std::vector<EventInvokeConfig>> list(const std::string& function) override {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(std::string("SELECT ") + kColumns +
                              " FROM event_invoke_configs WHERE function = ? ORDER BY qualifier");
    if (!select) return std::move(select).error();
    select->bind(1, function);
    std::vector<EventInvokeConfig> configs;
    for (;;) {
      auto row = select->step();
      if (!row) return std::move(row).error().context("list EventInvokeConfigs of " + function);
      if (!*row) return configs;
      configs.push_back(readConfig(*select));
    }
  }

  Status removeFunction(const std::string& function) override {
    std::lock_guard lock(mutex_);
    auto remove = db_.prepare("DELETE FROM event_invoke_configs WHERE function = ?");
    if (!remove) return std::move(remove).error();
    WICK_TRY(remove->bind(1, function).run(), "delete the EventInvokeConfigs of " + function);
    return {};
  }

 private:
  std::mutex mutex_;
  Database db_;
};

}  // namespace

Result<std::unique_ptr<EventInvokeConfigs>> openSqliteEventInvokeConfigs(const std::string& path) {
  auto db = Database::open(path);
  if (!db) return std::move(db).error().context("open EventInvokeConfigs");
  WICK_TRY(db->exec(kSchema), "create the EventInvokeConfig schema in " + path);
  return std::unique_ptr<EventInvokeConfigs>(
      std::make_unique<SqliteEventInvokeConfigs>(std::move(*db)));
}

}  // namespace wick::async
