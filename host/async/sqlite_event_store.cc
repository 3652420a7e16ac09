// The event queue in SQLite (the embedded default behind EventStore).
#include <mutex>

#include "host/async/event_store.h"
#include "host/registry/sqlite.h"

namespace wick::async {

namespace {

using registry::Database;
using registry::in;
using registry::Statement;

// Schema versions (Database::migrate); the first kept IF NOT EXISTS for the
// files made before versions were recorded.
constexpr const char* kMigrations[] = {R"(
  CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    payload TEXT NOT NULL,
    enqueued_ms INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    function_attempts INTEGER NOT NULL,
    throttles INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    leased_until_ms INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX IF NOT EXISTS events_due ON events(next_attempt_ms);
  CREATE INDEX IF NOT EXISTS events_function ON events(function);
  CREATE TABLE IF NOT EXISTS failed_events (
    id TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    payload TEXT NOT NULL,
    enqueued_ms INTEGER NOT NULL,
    function_attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    condition TEXT NOT NULL,
    record TEXT NOT NULL,
    reason TEXT NOT NULL,
    failed_ms INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS failed_events_function ON failed_events(function);)"};

constexpr const char* kEventColumns =
    "id, function, qualifier, payload, enqueued_ms, next_attempt_ms, function_attempts, "
    "throttles, last_error";

AsyncEvent readEvent(const Statement& row) {
  AsyncEvent event;
  event.id = row.text(0);
  event.function = row.text(1);
  event.qualifier = row.text(2);
  event.payload = row.text(3);
  event.enqueued_ms = row.integer(4);
  event.next_attempt_ms = row.integer(5);
  event.function_attempts = static_cast<int>(row.integer(6));
  event.throttles = static_cast<int>(row.integer(7));
  event.last_error = row.text(8);
  return event;
}

FailedEvent readFailed(const Statement& row) {
  FailedEvent failed;
  failed.event.id = row.text(0);
  failed.event.function = row.text(1);
  failed.event.qualifier = row.text(2);
  failed.event.payload = row.text(3);
  failed.event.enqueued_ms = row.integer(4);
  failed.event.function_attempts = static_cast<int>(row.integer(5));
  failed.event.last_error = row.text(6);
  failed.condition = row.text(7);
  failed.record = row.text(8);
  failed.reason = row.text(9);
  failed.failed_ms = row.integer(10);
  return failed;
}

// Nothing to say but that it worked.
Status done(Result<int64_t> written) {
  if (!written) return std::move(written).error();
  return {};
}

class SqliteEventStore final : public EventStore {
 public:
  explicit SqliteEventStore(Database db) : db_(std::move(db)) {}

  Status enqueue(const std::vector<AsyncEvent>& events) override {
    std::lock_guard lock(mutex_);
    // A 202 promises the event outlives a power cut: this commit alone is FULL.
    WICK_TRY(db_.exec("PRAGMA synchronous=FULL"), "enqueue events");
    Status inserted = db_.transaction([&] { return insertLocked(events); });
    (void)db_.exec("PRAGMA synchronous=NORMAL");
    return in("enqueue events", std::move(inserted));
  }

  Result<std::vector<AsyncEvent>> takeDue(int64_t now_ms, size_t max,
                                          int64_t lease_until_ms) override {
    std::lock_guard lock(mutex_);
    return in("take due events",
              db_.transaction([&] { return takeDueLocked(now_ms, max, lease_until_ms); }));
  }

  Status reschedule(const AsyncEvent& event) override {
    std::lock_guard lock(mutex_);
    return in("reschedule event " + event.id,
              done(db_.execute("UPDATE events SET next_attempt_ms = ?, function_attempts = ?, "
                               "throttles = ?, last_error = ?, leased_until_ms = 0 WHERE id = ?",
                               event.next_attempt_ms, int64_t{event.function_attempts},
                               int64_t{event.throttles}, event.last_error, event.id)));
  }

  Status remove(const std::string& id) override {
    std::lock_guard lock(mutex_);
    return in("remove event " + id, done(db_.execute("DELETE FROM events WHERE id = ?", id)));
  }

  Status moveToFailed(const FailedEvent& failed) override {
    std::lock_guard lock(mutex_);
    return in("keep failed event " + failed.event.id,
              db_.transaction([&] { return moveToFailedLocked(failed); }));
  }

  Status releaseLeases() override {
    std::lock_guard lock(mutex_);
    WICK_TRY(db_.exec("UPDATE events SET leased_until_ms = 0 WHERE leased_until_ms != 0"),
             "release event leases");
    return {};
  }

  Result<std::vector<AsyncEvent>> queued(const std::string& function) override {
    std::lock_guard lock(mutex_);
    return in("list queued events",
              db_.rows(std::string("SELECT ") + kEventColumns +
                           " FROM events WHERE ?1 = '' OR function = ?1 ORDER BY enqueued_ms",
                       readEvent, function));
  }

  Result<std::vector<FailedEvent>> failed(const std::string& function) override {
    std::lock_guard lock(mutex_);
    return in("list failed events",
              db_.rows("SELECT id, function, qualifier, payload, enqueued_ms, function_attempts, "
                       "last_error, condition, record, reason, failed_ms FROM failed_events "
                       "WHERE ?1 = '' OR function = ?1 ORDER BY failed_ms",
                       readFailed, function));
  }

  Result<bool> replay(const std::string& id, int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    return in("replay event " + id, db_.transaction([&] { return replayLocked(id, now_ms); }));
  }

  Result<uint64_t> purge(const std::string& function) override {
    std::lock_guard lock(mutex_);
    uint64_t removed = 0;
    for (const char* table : {"events", "failed_events"}) {
      auto purged =
          db_.execute(std::string("DELETE FROM ") + table + " WHERE function = ?", function);
      if (!purged) return std::move(purged).error().context("purge events of " + function);
      removed += static_cast<uint64_t>(*purged);
    }
    return removed;
  }

  Result<std::optional<int64_t>> nextDue() override {
    std::lock_guard lock(mutex_);
    return in("next due event",
              db_.scalar("SELECT MIN(next_attempt_ms) FROM events WHERE leased_until_ms = 0"));
  }

 private:
  Status insertLocked(const std::vector<AsyncEvent>& events) {
    auto insert = db_.prepare(std::string("INSERT INTO events (") + kEventColumns +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    for (const AsyncEvent& event : events) {
      insert->bindAll(event.id, event.function, event.qualifier, event.payload, event.enqueued_ms,
                      event.next_attempt_ms, int64_t{event.function_attempts},
                      int64_t{event.throttles}, event.last_error);
      WICK_TRY(insert->run(), "enqueue event " + event.id);
      insert->reset();
    }
    return {};
  }

  Result<std::vector<AsyncEvent>> takeDueLocked(int64_t now_ms, size_t max,
                                                int64_t lease_until_ms) {
    auto events = db_.rows(std::string("SELECT ") + kEventColumns +
                               " FROM events WHERE next_attempt_ms <= ? AND leased_until_ms <= ? "
                               "ORDER BY next_attempt_ms, enqueued_ms LIMIT ?",
                           readEvent, now_ms, now_ms, static_cast<int64_t>(max));
    if (!events) return events;
    for (const AsyncEvent& event : *events)
      WICK_TRY(db_.execute("UPDATE events SET leased_until_ms = ? WHERE id = ?", lease_until_ms,
                           event.id),
               "lease " + event.id);
    return events;
  }

  Status moveToFailedLocked(const FailedEvent& failed) {
    WICK_TRY(db_.execute("INSERT OR REPLACE INTO failed_events (id, function, qualifier, payload, "
                         "enqueued_ms, function_attempts, last_error, condition, record, reason, "
                         "failed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         failed.event.id, failed.event.function, failed.event.qualifier,
                         failed.event.payload, failed.event.enqueued_ms,
                         int64_t{failed.event.function_attempts}, failed.event.last_error,
                         failed.condition, failed.record, failed.reason, failed.failed_ms),
             "insert failed event");
    return done(db_.execute("DELETE FROM events WHERE id = ?", failed.event.id));
  }

  Result<bool> replayLocked(const std::string& id, int64_t now_ms) {
    auto copied = db_.execute(
        "INSERT INTO events (id, function, qualifier, payload, enqueued_ms, next_attempt_ms, "
        "function_attempts, throttles, last_error) SELECT id, function, qualifier, payload, ?1, "
        "?1, 0, 0, '' FROM failed_events WHERE id = ?2",
        now_ms, id);
    if (!copied) return std::move(copied).error();
    if (*copied == 0) return false;
    WICK_TRY(db_.execute("DELETE FROM failed_events WHERE id = ?", id), "remove the failed copy");
    return true;
  }

  std::mutex mutex_;
  Database db_;
};

}  // namespace

Result<std::unique_ptr<EventStore>> openSqliteEventStore(const std::string& path) {
  auto db = Database::open(path);
  if (!db) return std::move(db).error().context("open event queue");
  WICK_TRY(db->migrate("events", kMigrations), "open event queue");
  return std::unique_ptr<EventStore>(std::make_unique<SqliteEventStore>(std::move(*db)));
}

}  // namespace wick::async
