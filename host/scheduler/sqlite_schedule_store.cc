// ScheduleStore in SQLite (the embedded default): one row per schedule, its
// document as JSON plus the columns the firing loop selects on; its groups;
// the client tokens of idempotent writes.
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
  CREATE INDEX IF NOT EXISTS schedules_due ON schedules (enabled, due_ms);)",
                                       // 2: schedules keyed by (group, name), those from before
                                       // groups carried into the default group; groups; the
                                       // client tokens of idempotent writes.
                                       R"(

  CREATE TABLE IF NOT EXISTS grouped_schedules (
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    due_ms INTEGER,
    modified_ms INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (group_name, name));
  CREATE INDEX IF NOT EXISTS grouped_schedules_due ON grouped_schedules (enabled, due_ms);
  CREATE TABLE IF NOT EXISTS schedule_groups (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS scheduler_client_tokens (
    token TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    used_ms INTEGER NOT NULL);
  INSERT OR IGNORE INTO grouped_schedules (group_name, name, enabled, due_ms, modified_ms, document)
    SELECT 'default', name, enabled, due_ms, modified_ms, document FROM schedules;
  DROP TABLE schedules;)"};

Schedule readSchedule(const Statement& row) {
  return fromStoredJson(nlohmann::json::parse(row.text(0)));
}

class SqliteScheduleStore final : public ScheduleStore {
 public:
  explicit SqliteScheduleStore(Database db) : db_(std::move(db)) {}

  Result<bool> create(const Schedule& schedule) override {
    std::lock_guard lock(mutex_);
    auto insert = db_.prepare(
        "INSERT OR IGNORE INTO grouped_schedules (group_name, name, enabled, due_ms, "
        "modified_ms, document) VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    bindRow(*insert, schedule);
    WICK_TRY(insert->run(), "create schedule " + schedule.name);
    return db_.changes() > 0;
  }

  Result<bool> replace(const Schedule& schedule, int64_t expected_modified_ms) override {
    std::lock_guard lock(mutex_);
    auto update = db_.prepare(
        "UPDATE grouped_schedules SET enabled = ?3, due_ms = ?4, modified_ms = ?5, "
        "document = ?6 WHERE group_name = ?1 AND name = ?2 AND modified_ms = ?7");
    if (!update) return std::move(update).error();
    bindRow(*update, schedule);
    update->bind(7, expected_modified_ms);
    WICK_TRY(update->run(), "update schedule " + schedule.name);
    return db_.changes() > 0;
  }

  Result<std::optional<Schedule>> get(const std::string& group, const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto rows = select("WHERE group_name = ? AND name = ?",
                       [&](Statement& s) { s.bind(1, group).bind(2, name); });
    if (!rows) return std::move(rows).error().context("get schedule " + group + "/" + name);
    if (rows->empty()) return std::optional<Schedule>();
    return std::optional<Schedule>(rows->front());
  }

  Result<std::vector<Schedule>> list() override {
    std::lock_guard lock(mutex_);
    return select("ORDER BY group_name, name", [](Statement&) {});
  }

  Result<bool> remove(const std::string& group, const std::string& name,
                      std::optional<int64_t> expected_modified_ms) override {
    std::lock_guard lock(mutex_);
    auto remove = db_.prepare(
        "DELETE FROM grouped_schedules WHERE group_name = ? AND name = ? "
        "AND (?3 IS NULL OR modified_ms = ?3)");
    if (!remove) return std::move(remove).error();
    WICK_TRY(remove->bind(1, group).bind(2, name).bind(3, expected_modified_ms).run(),
             "delete schedule " + group + "/" + name);
    return db_.changes() > 0;
  }

  Result<std::vector<Schedule>> due(int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    return in(
        "read due schedules",
        db_.rows("SELECT document FROM grouped_schedules WHERE enabled = 1 AND due_ms IS NOT NULL "
                 "AND due_ms <= ? ORDER BY due_ms",
                 readSchedule, now_ms));
  }

  Result<std::optional<int64_t>> nextDue() override {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare("SELECT MIN(due_ms) FROM grouped_schedules WHERE enabled = 1");
    if (!select) return std::move(select).error();
    auto row = select->step();
    if (!row) return std::move(row).error().context("find the next due schedule");
    if (!*row || select->isNull(0)) return std::optional<int64_t>();
    return std::optional<int64_t>(select->integer(0));
  }

  Result<bool> createGroup(const ScheduleGroup& group) override {
    std::lock_guard lock(mutex_);
    auto insert = db_.prepare(
        "INSERT OR IGNORE INTO schedule_groups (name, created_ms, modified_ms) VALUES (?, ?, ?)");
    if (!insert) return std::move(insert).error();
    WICK_TRY(insert->bind(1, group.name).bind(2, group.created_ms).bind(3, group.modified_ms).run(),
             "create schedule group " + group.name);
    return db_.changes() > 0;
  }

  Result<std::optional<ScheduleGroup>> getGroup(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto groups = selectGroups("WHERE name = ?", name);
    if (!groups) return std::move(groups).error();
    if (groups->empty()) return std::optional<ScheduleGroup>();
    return std::optional<ScheduleGroup>(groups->front());
  }

  Result<std::vector<ScheduleGroup>> listGroups() override {
    std::lock_guard lock(mutex_);
    return selectGroups("WHERE ?1 = ?1 ORDER BY name", "");
  }

  Result<std::optional<size_t>> removeGroup(const std::string& name) override {
    std::lock_guard lock(mutex_);
    WICK_TRY(db_.exec("BEGIN IMMEDIATE"), "delete schedule group " + name);
    auto removed = removeGroupLocked(name);
    (void)db_.exec(removed && *removed ? "COMMIT" : "ROLLBACK");
    return removed;
  }

  Result<std::optional<TokenUse>> tokenUse(const std::string& token, int64_t since_ms) override {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(
        "SELECT request, response FROM scheduler_client_tokens WHERE token = ? AND used_ms >= ?");
    if (!select) return std::move(select).error();
    select->bind(1, token).bind(2, since_ms);
    auto row = select->step();
    if (!row) return std::move(row).error().context("look up a client token");
    if (!*row) return std::optional<TokenUse>();
    return std::optional<TokenUse>(TokenUse{select->text(0), select->text(1)});
  }

  Status rememberToken(const std::string& token, const TokenUse& use, int64_t now_ms,
                       int64_t since_ms) override {
    std::lock_guard lock(mutex_);
    auto forget = db_.prepare("DELETE FROM scheduler_client_tokens WHERE used_ms < ?");
    if (!forget) return std::move(forget).error();
    WICK_TRY(forget->bind(1, since_ms).run(), "forget old client tokens");
    auto insert = db_.prepare(
        "INSERT OR REPLACE INTO scheduler_client_tokens (token, request, response, used_ms) "
        "VALUES (?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    WICK_TRY(
        insert->bind(1, token).bind(2, use.request).bind(3, use.response).bind(4, now_ms).run(),
        "remember a client token");
    return {};
  }

 private:
  static void bindRow(Statement& statement, const Schedule& schedule) {
    statement.bind(1, schedule.group)
        .bind(2, schedule.name)
        .bind(3, int64_t{schedule.state == "ENABLED" ? 1 : 0})
        .bind(4, schedule.due_ms)
        .bind(5, schedule.modified_ms)
        .bind(6, toStoredJson(schedule).dump());
  }

  template <typename Bind>
  Result<std::vector<Schedule>> select(const std::string& where, Bind bind) {
    auto select = db_.prepare("SELECT document FROM grouped_schedules " + where);
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

  Result<std::vector<ScheduleGroup>> selectGroups(const std::string& where,
                                                  const std::string& value) {
    auto select = db_.prepare("SELECT name, created_ms, modified_ms FROM schedule_groups " + where);
    if (!select) return std::move(select).error();
    select->bind(1, value);
    std::vector<ScheduleGroup> groups;
    for (;;) {
      auto row = select->step();
      if (!row) return std::move(row).error().context("read schedule groups");
      if (!*row) return groups;
      groups.push_back({select->text(0), select->integer(1), select->integer(2)});
    }
  }

  Result<std::optional<size_t>> removeGroupLocked(const std::string& name) {
    auto remove = db_.prepare("DELETE FROM schedule_groups WHERE name = ?");
    if (!remove) return std::move(remove).error();
    WICK_TRY(remove->bind(1, name).run(), "delete schedule group " + name);
    if (db_.changes() == 0) return std::optional<size_t>();
    auto schedules = db_.prepare("DELETE FROM grouped_schedules WHERE group_name = ?");
    if (!schedules) return std::move(schedules).error();
    WICK_TRY(schedules->bind(1, name).run(), "delete the schedules of group " + name);
    return std::optional<size_t>(static_cast<size_t>(db_.changes()));
  }

  std::mutex mutex_;
  Database db_;
};

}  // namespace

Result<std::unique_ptr<ScheduleStore>> openSqliteScheduleStore(const std::string& path) {
  // A schedule accepted is a schedule kept.
  auto db = Database::open(path, Database::Sync::kFull);
  if (!db) return std::move(db).error().context("open the schedule store");
  WICK_TRY(db->migrate("schedules", kMigrations), "open the schedule store");
  // The default group always exists (AWS creates it with the account).
  WICK_TRY(db->exec("INSERT OR IGNORE INTO schedule_groups (name, created_ms, modified_ms) "
                    "VALUES ('default', CAST(strftime('%s','now') AS INTEGER) * 1000, "
                    "CAST(strftime('%s','now') AS INTEGER) * 1000)"),
           "create the default schedule group in " + path);
  return std::unique_ptr<ScheduleStore>(new SqliteScheduleStore(std::move(*db)));
}

}  // namespace wick::scheduler
