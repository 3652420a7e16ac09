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

namespace wick::async {

struct AsyncEvent {
  std::string id;         // the invocation's request id, the same for every attempt
  std::string function;   // name
  std::string qualifier;  // as the caller named it; "" = $LATEST
  std::string payload;
  int64_t enqueued_ms = 0;
  int64_t next_attempt_ms = 0;
  int function_attempts = 0;
  int throttles = 0;  // in a row
  std::string last_error;
};

struct FailedEvent {
  AsyncEvent event;
  std::string condition;  // RetriesExhausted, EventAgeExceeded, ZeroReservedConcurrency, ...
  std::string record;     // the destination record (JSON) as it would have been delivered
  std::string reason;     // why it is here: no destination, or the delivery's error
  int64_t failed_ms = 0;
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
  // Every lease ends (at start: whoever held them is gone).
  virtual Status releaseLeases() = 0;

  // What `wick events` shows. function "" = all.
  virtual Result<std::vector<AsyncEvent>> queued(const std::string& function) = 0;
  virtual Result<std::vector<FailedEvent>> failed(const std::string& function) = 0;
  // A failed event back in the queue, due now, with fresh counts; false if none.
  virtual Result<bool> replay(const std::string& id, int64_t now_ms) = 0;
  // Drops a function's queued and failed events; how many.
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
