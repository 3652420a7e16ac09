// The event queue in SQLite (the embedded default behind EventStore).
#include <mutex>
#include <nlohmann/json.hpp>

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
  CREATE INDEX IF NOT EXISTS failed_events_function ON failed_events(function);)",
                                       // 2: deliveries to other services kept with their event's
                                       // end; a schedule firing's origin on its event.
                                       R"(
  CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    function TEXT NOT NULL,
    message TEXT NOT NULL,
    failed TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    leased_until_ms INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(next_attempt_ms);
  CREATE INDEX IF NOT EXISTS deliveries_function ON deliveries(function);
  ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT '';)"};

using nlohmann::json;

std::string dumped(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A delivery's message and the failed event it falls back to, as JSON columns.
json messageJson(const destinations::Message& message) {
  json attributes = json::array();
  for (const auto& attribute : message.attributes)
    attributes.push_back({attribute.name, attribute.data_type, attribute.value});
  return {{"target", message.target_arn},
          {"dead_letter", message.dead_letter},
          {"function_arn", message.function_arn},
          {"success", message.success},
          {"body", message.body},
          {"attributes", attributes}};
}

// A row that does not parse (written by a newer or broken writer) gives an
// empty message: its delivery fails and the event is kept as failed.
destinations::Message messageFrom(const json& stored) try {
  destinations::Message message;
  if (!stored.is_object()) return message;
  message.target_arn = stored.value("target", "");
  message.dead_letter = stored.value("dead_letter", false);
  message.function_arn = stored.value("function_arn", "");
  message.success = stored.value("success", false);
  message.body = stored.value("body", "");
  for (const json& attribute : stored.value("attributes", json::array()))
    message.attributes.push_back({attribute.at(0).get<std::string>(),
                                  attribute.at(1).get<std::string>(),
                                  attribute.at(2).get<std::string>()});
  return message;
} catch (const json::exception&) {
  return {};
}

json failedJson(const FailedEvent& failed) {
  const AsyncEvent& event = failed.event;
  return {{"id", event.id},
          {"function", event.function},
          {"qualifier", event.qualifier},
          {"payload", event.payload},
          {"enqueued_ms", event.enqueued_ms},
          {"function_attempts", event.function_attempts},
          {"last_error", event.last_error},
          {"condition", failed.condition},
          {"record", failed.record}};
}

FailedEvent failedFrom(const json& stored) try {
  FailedEvent failed;
  if (!stored.is_object()) return failed;
  AsyncEvent& event = failed.event;
  event.id = stored.value("id", "");
  event.function = stored.value("function", "");
  event.qualifier = stored.value("qualifier", "");
  event.payload = stored.value("payload", "");
  event.enqueued_ms = stored.value("enqueued_ms", int64_t{0});
  event.function_attempts = stored.value("function_attempts", 0);
  event.last_error = stored.value("last_error", "");
  failed.condition = stored.value("condition", "");
  failed.record = stored.value("record", "");
  return failed;
} catch (const json::exception&) {
  return {};
}

constexpr const char* kDeliveryColumns =
    "id, message, failed, attempts, next_attempt_ms, last_error";

PendingDelivery readDelivery(const Statement& row) {
  PendingDelivery delivery;
  delivery.id = row.text(0);
  delivery.message = messageFrom(json::parse(row.text(1), nullptr, false));
  delivery.failed = failedFrom(json::parse(row.text(2), nullptr, false));
  delivery.attempts = static_cast<int>(row.integer(3));
  delivery.next_attempt_ms = row.integer(4);
  delivery.last_error = row.text(5);
  return delivery;
}

constexpr const char* kEventColumns =
    "id, function, qualifier, payload, enqueued_ms, next_attempt_ms, function_attempts, "
    "throttles, last_error, origin";

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
  event.origin = row.text(9);
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

  Status end(const EventEnd& end) override {
    std::lock_guard lock(mutex_);
    WICK_TRY(db_.exec("BEGIN IMMEDIATE"), "end event " + end.event_id);
    Status ended = endLocked(end);
    if (!ended) {
      (void)db_.exec("ROLLBACK");
      return std::move(ended).error().context("end event " + end.event_id);
    }
    WICK_TRY(db_.exec("COMMIT"), "end event " + end.event_id);
    return {};
  }

  Status releaseLeases() override {
    std::lock_guard lock(mutex_);
    WICK_TRY(db_.exec("UPDATE events SET leased_until_ms = 0 WHERE leased_until_ms != 0; "
                      "UPDATE deliveries SET leased_until_ms = 0 WHERE leased_until_ms != 0"),
             "release event leases");
    return {};
  }

  Result<std::vector<PendingDelivery>> takeDueDeliveries(int64_t now_ms, size_t max,
                                                         int64_t lease_until_ms) override {
    std::lock_guard lock(mutex_);
    WICK_TRY(db_.exec("BEGIN IMMEDIATE"), "take due deliveries");
    auto taken = takeDueDeliveriesLocked(now_ms, max, lease_until_ms);
    if (!taken) {
      (void)db_.exec("ROLLBACK");
      return std::move(taken).error().context("take due deliveries");
    }
    WICK_TRY(db_.exec("COMMIT"), "take due deliveries");
    return taken;
  }

  Status rescheduleDelivery(const PendingDelivery& delivery) override {
    std::lock_guard lock(mutex_);
    auto update = prepare(
        "UPDATE deliveries SET attempts = ?, next_attempt_ms = ?, last_error = ?, "
        "leased_until_ms = 0 WHERE id = ?");
    if (!update) return std::move(update).error();
    update->bind(1, int64_t{delivery.attempts})
        .bind(2, delivery.next_attempt_ms)
        .bind(3, delivery.last_error)
        .bind(4, delivery.id);
    WICK_TRY(update->run(), "reschedule delivery " + delivery.id);
    return {};
  }

  Status removeDelivery(const std::string& id) override {
    std::lock_guard lock(mutex_);
    auto remove = prepare("DELETE FROM deliveries WHERE id = ?");
    if (!remove) return std::move(remove).error();
    WICK_TRY(remove->bind(1, id).run(), "remove delivery " + id);
    return {};
  }

  Status giveUpDelivery(const PendingDelivery& delivery, const std::string& reason,
                        int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    WICK_TRY(db_.exec("BEGIN IMMEDIATE"), "give up delivery " + delivery.id);
    Status kept = giveUpDeliveryLocked(delivery, reason, now_ms);
    if (!kept) {
      (void)db_.exec("ROLLBACK");
      return std::move(kept).error().context("give up delivery " + delivery.id);
    }
    WICK_TRY(db_.exec("COMMIT"), "give up delivery " + delivery.id);
    return {};
  }

  Result<std::vector<PendingDelivery>> deliveries(const std::string& function) override {
    std::lock_guard lock(mutex_);
    auto select = prepare(std::string("SELECT ") + kDeliveryColumns +
                          " FROM deliveries WHERE ?1 = '' OR function = ?1 ORDER BY rowid");
    if (!select) return std::move(select).error();
    select->bind(1, function);
    std::vector<PendingDelivery> found;
    for (;;) {
      auto row = select->step();
      if (!row) return std::move(row).error().context("list deliveries");
      if (!*row) return found;
      found.push_back(readDelivery(*select));
    }
  }

  Result<std::optional<int64_t>> nextDeliveryDue() override {
    std::lock_guard lock(mutex_);
    auto select = prepare("SELECT MIN(next_attempt_ms) FROM deliveries WHERE leased_until_ms = 0");
    if (!select) return std::move(select).error();
    auto row = select->step();
    if (!row) return std::move(row).error().context("next due delivery");
    if (!*row || select->isNull(0)) return std::optional<int64_t>();
    return std::optional<int64_t>(select->integer(0));
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
    for (const char* table : {"events", "failed_events", "deliveries"}) {
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
  Result<Statement> prepare(const std::string& sql) { return db_.prepare(sql); }
  uint64_t changes() { return static_cast<uint64_t>(db_.changes()); }

  Status insertLocked(const std::vector<AsyncEvent>& events) {
    auto insert = prepare(std::string("INSERT INTO events (") + kEventColumns +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    for (const AsyncEvent& event : events) {
      insert->bindAll(event.id, event.function, event.qualifier, event.payload, event.enqueued_ms,
                      event.next_attempt_ms, int64_t{event.function_attempts},
                      int64_t{event.throttles}, event.last_error, event.origin);
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

  Status endLocked(const EventEnd& end) {
    if (!end.enqueue.empty()) WICK_TRY(insertLocked(end.enqueue), "hand on its events");
    auto insert = prepare(std::string("INSERT INTO deliveries (event_id, function, ") +
                          kDeliveryColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    for (const PendingDelivery& delivery : end.deliveries) {
      insert->bind(1, end.event_id)
          .bind(2, delivery.failed.event.function)
          .bind(3, delivery.id)
          .bind(4, dumped(messageJson(delivery.message)))
          .bind(5, dumped(failedJson(delivery.failed)))
          .bind(6, int64_t{delivery.attempts})
          .bind(7, delivery.next_attempt_ms)
          .bind(8, delivery.last_error);
      WICK_TRY(insert->run(), "keep delivery to " + delivery.message.target_arn);
      insert->reset();
    }
    if (end.failed) return moveToFailedLocked(*end.failed);
    auto remove = prepare("DELETE FROM events WHERE id = ?");
    if (!remove) return std::move(remove).error();
    return remove->bind(1, end.event_id).run();
  }

  Result<std::vector<PendingDelivery>> takeDueDeliveriesLocked(int64_t now_ms, size_t max,
                                                               int64_t lease_until_ms) {
    auto select = prepare(std::string("SELECT ") + kDeliveryColumns +
                          " FROM deliveries WHERE next_attempt_ms <= ? AND leased_until_ms <= ? "
                          "ORDER BY next_attempt_ms LIMIT ?");
    if (!select) return std::move(select).error();
    select->bind(1, now_ms).bind(2, now_ms).bind(3, static_cast<int64_t>(max));
    std::vector<PendingDelivery> due;
    for (;;) {
      auto row = select->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      due.push_back(readDelivery(*select));
    }
    auto leased = prepare("UPDATE deliveries SET leased_until_ms = ? WHERE id = ?");
    if (!leased) return std::move(leased).error();
    for (const PendingDelivery& delivery : due) {
      WICK_TRY(leased->bind(1, lease_until_ms).bind(2, delivery.id).run(), "lease " + delivery.id);
      leased->reset();
    }
    return due;
  }

  Status giveUpDeliveryLocked(const PendingDelivery& delivery, const std::string& reason,
                              int64_t now_ms) {
    // An earlier failure of the same event (its other destination) keeps
    // its record; this one's reason is added.
    auto append = prepare("UPDATE failed_events SET reason = reason || '; ' || ? WHERE id = ?");
    if (!append) return std::move(append).error();
    WICK_TRY(append->bind(1, reason).bind(2, delivery.failed.event.id).run(), "keep its reason");
    if (changes() == 0) {
      FailedEvent failed = delivery.failed;
      failed.reason = reason;
      failed.failed_ms = now_ms;
      WICK_TRY(moveToFailedLocked(failed), "keep its event as failed");
    }
    auto remove = prepare("DELETE FROM deliveries WHERE id = ?");
    if (!remove) return std::move(remove).error();
    return remove->bind(1, delivery.id).run();
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
