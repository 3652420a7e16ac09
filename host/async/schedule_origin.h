// What a schedule's firing carries into the async queue (EventBridge
// Scheduler, ../shared/reference/events.md 6): Scheduler invokes a Lambda
// target asynchronously, so once the invoke is accepted the function's own
// EventInvokeConfig rules; the schedule's target RetryPolicy and
// DeadLetterConfig apply to the invoke itself failing. A target that does not
// exist (or no longer) is not retried: its event goes to the dead-letter
// queue at once. Another failure (the function cannot run now: Pending or
// Failed, Lambda's ResourceConflictException) is retried with exponential backoff until
// MaximumRetryAttempts retries are made or MaximumEventAgeInSeconds have
// passed since the scheduled time, then goes there. The dead letter is the
// target's event with Scheduler's message attributes (all String):
// ERROR_CODE, ERROR_MESSAGE, EXECUTION_ID, EXHAUSTED_RETRY_CONDITION (only
// when a retry limit ended it), IS_PAYLOAD_TRUNCATED, RETRY_ATTEMPTS,
// SCHEDULED_TIME, SCHEDULE_ARN, TARGET_ARN. Pure, for unit tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/async/retry_policy.h"
#include "host/destinations/requests.h"

namespace wick::async {

struct ScheduleOrigin {
  std::string schedule_arn;
  std::string target_arn;
  std::string execution_id;
  int64_t scheduled_ms = 0;
  int64_t maximum_event_age_seconds = 86400;  // 60..86400
  int maximum_retry_attempts = 185;           // 0..185
  std::string dead_letter_arn;                // an SQS queue, or ""
};

// As kept in the event's `origin` column (JSON); none for "" or garbage.
std::string toOriginJson(const ScheduleOrigin& origin);
std::optional<ScheduleOrigin> parseOrigin(const std::string& text);

struct ScheduleRetry {
  bool give_up = false;
  std::string exhausted;        // when giving up after retries: the limit that ended them
  int64_t next_attempt_ms = 0;  // when not
};

// After the invoke failed for the (retries + 1)th time at now_ms.
ScheduleRetry decideScheduleRetry(const ScheduleOrigin& origin, bool retryable, int retries,
                                  int64_t now_ms, const RetryDelays& delays);

std::vector<destinations::MessageAttribute> scheduleDeadLetterAttributes(
    const ScheduleOrigin& origin, const std::string& error_code, const std::string& error_message,
    int retries, const std::string& exhausted);

}  // namespace wick::async
