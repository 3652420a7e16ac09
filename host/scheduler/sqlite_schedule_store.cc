// ScheduleStore in SQLite (the embedded default): one row per schedule, its
// document as JSON plus the columns the firing loop selects on.
#include <mutex>

#include "host/registry/sqlite.h"
#include "host/scheduler/schedule.h"

namespace wick::scheduler {

namespace {

using registry::Database;
using registry::Statement;

constexpr const char* kSchema = R"(
  CREATE TABLE IF NOT EXISTS schedules (
    name TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL,
    due_ms INTEGER,
    modified_ms INTEGER NOT NULL,
    document TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS schedules_due ON schedules (enabled, due_ms);)";

class SqliteScheduleStore final : public ScheduleStore {
 public:
  explicit SqliteScheduleStore(Database db) : db_(std::move(db)) {}

  Result<bool> create(const Schedule& schedule) override {
    std::lock_guard lock(mutex_);
    auto insert = db_.prepare(
        "INSERT OR IGNORE INTO schedules (name, enabled, due_ms, modified_ms, document) "
        "VALUES (?, ?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    bindRow(*insert, schedule);
    WICK_TRY(insert->run(), "create schedule " + schedule.name);
    return db_.changes() > 0;
  }

  Result<bool> replace(const Schedule& schedule, int64_t expected_modified_ms) override {
    std::lock_guard lock(mutex_);
    auto update = db_.prepare(
        "UPDATE schedules SET name = ?1, enabled = ?2, due_ms = ?3, modified_ms = ?4, "
        "document = ?5 WHERE name = ?1 AND modified_ms = ?6");
    if (!update) return std::move(update).error();
    bindRow(*update, schedule);
    update->bind(6, expected_modified_ms);
    WICK_TRY(update->run(), "update schedule " + schedule.name);
    return db_.changes() > 0;
  }

  Result<std::optional<Schedule>> get(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto rows = select("WHERE name = ?", [&](Statement& s) { s.bind(1, name); });
    if (!rows) return std::move(rows).error().context("get schedule " + name);
    if (rows->empty()) return std::optional<Schedule>();
    return std::optional<Schedule>(rows->front());
  }

  Result<std::vector<Schedule>> list() override {
    std::lock_guard lock(mutex_);
    return select("ORDER BY name", [](Statement&) {});
  }

  Result<bool> remove(const std::string& name,
                      std::optional<int64_t> expected_modified_ms) override {
    std::lock_guard lock(mutex_);
    auto remove =
        db_.prepare("DELETE FROM schedules WHERE name = ? AND (?2 IS NULL OR modified_ms = ?2)");
    if (!remove) return std::move(remove).error();
    WICK_TRY(remove->bind(1, name).bind(2, expected_modified_ms).run(), "delete schedule " + name);
    return db_.changes() > 0;
  }

  Result<std::vector<Schedule>> due(int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    return select("WHERE enabled = 1 AND due_ms IS NOT NULL AND due_ms <= ? ORDER BY due_ms",
                  [&](Statement& s) { s.bind(1, now_ms); });
  }

  Result<std::optional<int64_t>> nextDue() override {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare("SELECT MIN(due_ms) FROM schedules WHERE enabled = 1");
    if (!select) return std::move(select).error();
    auto row = select->step();
    if (!row) return std::move(row).error().context("find the next due schedule");
    if (!*row || select->isNull(0)) return std::optional<int64_t>();
    return std::optional<int64_t>(select->integer(0));
  }

 private:
  static void bindRow(Statement& statement, const Schedule& schedule) {
    statement.bind(1, schedule.name)
        .bind(2, int64_t{schedule.state == "ENABLED" ? 1 : 0})
        .bind(3, schedule.due_ms)
        .bind(4, schedule.modified_ms)
        .bind(5, toStoredJson(schedule).dump());
  }

  template <typename Bind>
  Result<std::vector<Schedule>> select(const std::string& where, Bind bind) {
    auto select = db_.prepare("SELECT document FROM schedules " + where);
    if (!select) return std::move(select).error();
    bind(*select);
    std::vector<Schedule> schedules;
    for (;;) {
      auto row = select->step();
      if (!row) return std::move(row).error().context("read schedules");
      if (!*row) return schedules;
      schedules.push_back(fromStoredJson(nlohmann::json::parse(select->text(0))));
    }
  }

  std::mutex mutex_;
  Database db_;
};

}  // namespace

Result<std::unique_ptr<ScheduleStore>> openSqliteScheduleStore(const std::string& path) {
  auto db = Database::open(path);
  if (!db) return std::move(db).error().context("open the schedule store");
  WICK_TRY(db->exec("PRAGMA synchronous=FULL;"), "set synchronous=FULL on " + path);
  WICK_TRY(db->exec(kSchema), "create the schedule schema in " + path);
  return std::unique_ptr<ScheduleStore>(new SqliteScheduleStore(std::move(*db)));
}

}  // namespace wick::scheduler
