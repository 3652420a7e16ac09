// EventInvokeConfigs in SQLite (the embedded default).
#include <mutex>

#include "host/async/event_invoke_config.h"
#include "host/registry/sqlite.h"

namespace wick::async {

namespace {

using registry::Database;
using registry::in;
using registry::Statement;

// Schema versions (Database::migrate); the first kept IF NOT EXISTS for the
// files made before versions were recorded.
constexpr const char* kMigrations[] = {R"(
  CREATE TABLE IF NOT EXISTS event_invoke_configs (
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    maximum_retry_attempts INTEGER,
    maximum_event_age_seconds INTEGER,
    on_success TEXT NOT NULL,
    on_failure TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (function, qualifier));)"};

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
    std::optional<int64_t> retries;
    if (config.maximum_retry_attempts) retries = *config.maximum_retry_attempts;
    auto put =
        db_.execute(std::string("INSERT OR REPLACE INTO event_invoke_configs (") + kColumns +
                        ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                    config.function, config.qualifier, retries, config.maximum_event_age_seconds,
                    config.on_success, config.on_failure, config.last_modified_ms);
    if (!put)
      return std::move(put).error().context("put the EventInvokeConfig of " + config.function);
    return {};
  }

  Result<std::optional<EventInvokeConfig>> get(const std::string& function,
                                               const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    return in("get the EventInvokeConfig of " + function,
              db_.first(std::string("SELECT ") + kColumns +
                            " FROM event_invoke_configs WHERE function = ? AND qualifier = ?",
                        readConfig, function, qualifier));
  }

  Result<bool> remove(const std::string& function, const std::string& qualifier) override {
    std::lock_guard lock(mutex_);
    auto removed =
        db_.execute("DELETE FROM event_invoke_configs WHERE function = ? AND qualifier = ?",
                    function, qualifier);
    if (!removed)
      return std::move(removed).error().context("delete the EventInvokeConfig of " + function);
    return *removed > 0;
  }

  Result<std::vector<EventInvokeConfig>> list(const std::string& function) override {
    std::lock_guard lock(mutex_);
    return in("list EventInvokeConfigs of " + function,
              db_.rows(std::string("SELECT ") + kColumns +
                           " FROM event_invoke_configs WHERE function = ? ORDER BY qualifier",
                       readConfig, function));
  }

  Status removeFunction(const std::string& function) override {
    std::lock_guard lock(mutex_);
    WICK_TRY(db_.execute("DELETE FROM event_invoke_configs WHERE function = ?", function),
             "delete the EventInvokeConfigs of " + function);
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
  WICK_TRY(db->migrate("event_invoke_configs", kMigrations), "open EventInvokeConfigs");
  return std::unique_ptr<EventInvokeConfigs>(
      std::make_unique<SqliteEventInvokeConfigs>(std::move(*db)));
}

}  // namespace wick::async
