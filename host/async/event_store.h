// The durable queue of asynchronous events, and the store of those that
// failed. The interface is the seam: SQLite in the state directory is the
// embedded default (openSqliteEventStore); a shared database can stand behind
// it for more than one host.
//
// Delivery is at least once, as on Lambda: an event taken for an attempt is
// leased, and a lease that is never settled (the daemon died mid-attempt)
// runs out and the event is due again.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/destinations/delivery.h"

namespace wick::async {

struct AsyncEvent {
  std::string id;         // the invocation's request id, the same for every attempt
  std::string function;   // name
  std::string qualifier;  // as the caller named it; "" = $LATEST
  std::string payload;
  int64_t enqueued_ms = 0;
  int64_t next_attempt_ms = 0;
  int function_attempts = 0;
  int throttles = 0;  // in a row (before a schedule's invoke was accepted: its retries)
  std::string last_error;
  std::string origin;  // a schedule's firing: its ScheduleOrigin (schedule_origin.h) as JSON
};

struct FailedEvent {
  AsyncEvent event;
  std::string condition;  // RetriesExhausted, EventAgeExceeded, ZeroReservedConcurrency, ...
  std::string record;     // the destination record (JSON) as it would have been delivered
  std::string reason;     // why it is here: no destination, or the delivery's error
  int64_t failed_ms = 0;
};

// A message for another service (a destination record, a dead letter) on
// its way: written with the end of its event, so a crash loses none, and
// tried on a schedule by the delivery queue (delivery_queue.h) until it
// arrives or its tries run out; then `failed` goes to the failed-event store.
struct PendingDelivery {
  std::string id;
  destinations::Message message;
  FailedEvent failed;  // the event, its condition and record (reason unused)
  int attempts = 0;    // tries made
  int64_t next_attempt_ms = 0;
  std::string last_error;
};

// How an event's life ends, in one transaction: it leaves the queue, and
// what it hands on (events for functions of this wickd, deliveries to other
// services) and what is kept as failed are written with it.
struct EventEnd {
  std::string event_id;
  std::vector<AsyncEvent> enqueue;
  std::vector<PendingDelivery> deliveries;
  std::optional<FailedEvent> failed;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Durable on disk (fsync'd) when it returns: only then may the caller
  // answer 202. A batch costs one fsync (group commit, group_commit.h).
  virtual Status enqueue(const std::vector<AsyncEvent>& events) = 0;
  Status enqueue(const AsyncEvent& event) { return enqueue(std::vector<AsyncEvent>{event}); }
  // Up to `max` events due at `now_ms`, oldest first, leased until `lease_until_ms`.
  virtual Result<std::vector<AsyncEvent>> takeDue(int64_t now_ms, size_t max,
                                                  int64_t lease_until_ms) = 0;
  // After an attempt: its new counts, error and time; the lease ends.
  virtual Status reschedule(const AsyncEvent& event) = 0;
  // The event's life ended well (or its record went to a destination).
  virtual Status remove(const std::string& id) = 0;
  // The event's life ended and its record found no destination: kept for
  // `wick events` and replay.
  virtual Status moveToFailed(const FailedEvent& failed) = 0;
  // All of an event's end at once (see EventEnd).
  virtual Status end(const EventEnd& end) = 0;
  // Every lease ends, of events and deliveries (at start: whoever held them is gone).
  virtual Status releaseLeases() = 0;

  // Deliveries: up to `max` due at `now_ms`, oldest first, leased until `lease_until_ms`.
  virtual Result<std::vector<PendingDelivery>> takeDueDeliveries(int64_t now_ms, size_t max,
                                                                 int64_t lease_until_ms) = 0;
  // After a failed try: its count, error and next time; the lease ends.
  virtual Status rescheduleDelivery(const PendingDelivery& delivery) = 0;
  // It arrived.
  virtual Status removeDelivery(const std::string& id) = 0;
  // Its tries ran out: its event is kept as failed with `reason` (added to
  // the reason of an earlier failure of the same event), the delivery gone.
  virtual Status giveUpDelivery(const PendingDelivery& delivery, const std::string& reason,
                                int64_t now_ms) = 0;
  // What `wick events` shows as being delivered. function "" = all.
  virtual Result<std::vector<PendingDelivery>> deliveries(const std::string& function) = 0;
  // When the next delivery is due, if any is pending and not leased.
  virtual Result<std::optional<int64_t>> nextDeliveryDue() = 0;

  // What `wick events` shows. function "" = all.
  virtual Result<std::vector<AsyncEvent>> queued(const std::string& function) = 0;
  virtual Result<std::vector<FailedEvent>> failed(const std::string& function) = 0;
  // A failed event back in the queue, due now, with fresh counts; false if none.
  virtual Result<bool> replay(const std::string& id, int64_t now_ms) = 0;
  // Drops a function's queued, failed and being-delivered events; how many.
  virtual Result<uint64_t> purge(const std::string& function) = 0;
  // When the next event is due, if any is queued and not leased.
  virtual Result<std::optional<int64_t>> nextDue() = 0;
};

// The queue in its own SQLite file in WAL mode: enqueue commits with
// synchronous=FULL (fsync'd before it returns); the dispatcher's updates with
// NORMAL (safe against a crashed process; a power loss can at worst run an
// event again, which at-least-once delivery allows).
Result<std::unique_ptr<EventStore>> openSqliteEventStore(const std::string& path);

}  // namespace wick::async
