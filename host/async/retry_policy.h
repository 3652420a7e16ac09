// What happens to an asynchronous event after an attempt, as Lambda decides
// (../shared/reference/events.md 1.3): function errors (an error reply, a
// crash, a timeout, an init error) are retried after about 1 and then 2
// minutes, at most MaximumRetryAttempts times; throttles and wick's own
// failures go back to the queue with a backoff from 1 s to 5 min and cost no
// retry; and whatever would run past MaximumEventAgeInSeconds is given up at
// once (Lambda looks ahead: an event of age limit 60 s gets one attempt).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace wick::async {

// A function's EventInvokeConfig error handling, with Lambda's defaults.
struct ErrorHandling {
  int maximum_retry_attempts = 2;             // 0..2
  int64_t maximum_event_age_seconds = 21600;  // 60..21600
};

// The waits, which operators (and tests) may shorten in the daemon config.
struct RetryDelays {
  std::vector<std::chrono::milliseconds> after_function_error = {std::chrono::seconds(60),
                                                                 std::chrono::seconds(120)};
  std::chrono::milliseconds throttle_first = std::chrono::seconds(1);
  std::chrono::milliseconds throttle_max = std::chrono::minutes(5);
};

enum class AttemptOutcome { kSuccess, kFunctionError, kThrottled, kSystemError };

// How an event's life ended: the destination record's requestContext.condition.
enum class Condition { kSuccess, kRetriesExhausted, kEventAgeExceeded, kZeroReservedConcurrency };
const char* toString(Condition condition);

struct EventProgress {
  int64_t enqueued_ms = 0;
  int function_attempts = 0;  // made so far, this one included
  int throttles = 0;          // in a row, this one included
};

struct Decision {
  bool finished = false;
  Condition condition = Condition::kSuccess;  // when finished
  int64_t next_attempt_ms = 0;                // when not
};

Decision decide(const ErrorHandling& handling, const RetryDelays& delays,
                const EventProgress& progress, AttemptOutcome outcome, int64_t now_ms);

}  // namespace wick::async
