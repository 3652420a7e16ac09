// ScheduleStore in SQLite (the embedded default): one row per schedule, its
// document as JSON plus the columns the firing loop selects on.
#include <mutex>

#include "host/registry/sqlite.h"
#include "host/scheduler/schedule.h"

namespace wick::scheduler {

namespace {

using registry::Database;
using registry::in;
using registry::Statement;

// Schema versions (Database::migrate); the first kept IF NOT EXISTS for the
// files made before versions were recorded.
constexpr const char* kMigrations[] = {R"(
  CREATE TABLE IF NOT EXISTS schedules (
    name TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL,
    due_ms INTEGER,
    modified_ms INTEGER NOT NULL,
    document TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS schedules_due ON schedules (enabled, due_ms);)"};

int64_t enabled(const Schedule& schedule) {
  return schedule.state == "ENABLED" ? 1 : 0;
}

Schedule readSchedule(const Statement& row) {
  return fromStoredJson(nlohmann::json::parse(row.text(0)));
}

class SqliteScheduleStore final : public ScheduleStore {
 public:
  explicit SqliteScheduleStore(Database db) : db_(std::move(db)) {}

  Result<bool> create(const Schedule& schedule) override {
    std::lock_guard lock(mutex_);
    auto created = db_.execute(
        "INSERT OR IGNORE INTO schedules (name, enabled, due_ms, modified_ms, document) "
        "VALUES (?, ?, ?, ?, ?)",
        schedule.name, enabled(schedule), schedule.due_ms, schedule.modified_ms,
        toStoredJson(schedule).dump());
    if (!created) return std::move(created).error().context("create schedule " + schedule.name);
    return *created > 0;
  }

  Result<bool> replace(const Schedule& schedule, int64_t expected_modified_ms) override {
    std::lock_guard lock(mutex_);
    auto replaced = db_.execute(
        "UPDATE schedules SET enabled = ?2, due_ms = ?3, modified_ms = ?4, document = ?5 "
        "WHERE name = ?1 AND modified_ms = ?6",
        schedule.name, enabled(schedule), schedule.due_ms, schedule.modified_ms,
        toStoredJson(schedule).dump(), expected_modified_ms);
    if (!replaced) return std::move(replaced).error().context("update schedule " + schedule.name);
    return *replaced > 0;
  }

  Result<std::optional<Schedule>> get(const std::string& name) override {
    std::lock_guard lock(mutex_);
    return in("get schedule " + name,
              db_.first("SELECT document FROM schedules WHERE name = ?", readSchedule, name));
  }

  Result<std::vector<Schedule>> list() override {
    std::lock_guard lock(mutex_);
    return in("read schedules",
              db_.rows("SELECT document FROM schedules ORDER BY name", readSchedule));
  }

  Result<bool> remove(const std::string& name,
                      std::optional<int64_t> expected_modified_ms) override {
    std::lock_guard lock(mutex_);
    auto removed =
        db_.execute("DELETE FROM schedules WHERE name = ? AND (?2 IS NULL OR modified_ms = ?2)",
                    name, expected_modified_ms);
    if (!removed) return std::move(removed).error().context("delete schedule " + name);
    return *removed > 0;
  }

  Result<std::vector<Schedule>> due(int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    return in("read due schedules",
              db_.rows("SELECT document FROM schedules WHERE enabled = 1 AND due_ms IS NOT NULL "
                       "AND due_ms <= ? ORDER BY due_ms",
                       readSchedule, now_ms));
  }

  Result<std::optional<int64_t>> nextDue() override {
    std::lock_guard lock(mutex_);
    return in("find the next due schedule",
              db_.scalar("SELECT MIN(due_ms) FROM schedules WHERE enabled = 1"));
  }

 private:
  std::mutex mutex_;
  Database db_;
};

}  // namespace

Result<std::unique_ptr<ScheduleStore>> openSqliteScheduleStore(const std::string& path) {
  // A schedule accepted is a schedule kept.
  auto db = Database::open(path, Database::Sync::kFull);
  if (!db) return std::move(db).error().context("open the schedule store");
  WICK_TRY(db->migrate("schedules", kMigrations), "open the schedule store");
  return std::unique_ptr<ScheduleStore>(new SqliteScheduleStore(std::move(*db)));
}

}  // namespace wick::scheduler
