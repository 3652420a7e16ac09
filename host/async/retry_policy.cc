#include "host/async/retry_policy.h"

#include <algorithm>

namespace wick::async {

const char* toString(Condition condition) {
  switch (condition) {
    case Condition::kSuccess:
      return "Success";
    case Condition::kRetriesExhausted:
      return "RetriesExhausted";
    case Condition::kEventAgeExceeded:
      return "EventAgeExceeded";
    case Condition::kZeroReservedConcurrency:
      return "ZeroReservedConcurrency";
  }
  return "Unknown";
}

namespace {

Decision finished(Condition condition) {
  return {true, condition, 0};
}

// A retry at now + wait, unless the event would be too old by then.
Decision retryAfter(const ErrorHandling& handling, const EventProgress& progress, int64_t now_ms,
                    std::chrono::milliseconds wait) {
  const int64_t at = now_ms + wait.count();
  if (at > progress.enqueued_ms + handling.maximum_event_age_seconds * 1000)
    return finished(Condition::kEventAgeExceeded);
  return {false, Condition::kSuccess, at};
}

}  // namespace

Decision decide(const ErrorHandling& handling, const RetryDelays& delays,
                const EventProgress& progress, AttemptOutcome outcome, int64_t now_ms) {
  switch (outcome) {
    case AttemptOutcome::kSuccess:
      return finished(Condition::kSuccess);
    case AttemptOutcome::kFunctionError: {
      const int retries_made = progress.function_attempts - 1;
      if (retries_made >= handling.maximum_retry_attempts)
        return finished(Condition::kRetriesExhausted);
      const auto& waits = delays.after_function_error;
      const auto wait = waits.empty() ? std::chrono::milliseconds(0)
                                      : waits[std::min<size_t>(retries_made, waits.size() - 1)];
      return retryAfter(handling, progress, now_ms, wait);
    }
    case AttemptOutcome::kThrottled:
    case AttemptOutcome::kSystemError: {
      // 1 s, 2 s, 4 s ... up to 5 min.
      const int doublings = std::clamp(progress.throttles - 1, 0, 30);
      auto wait = delays.throttle_first * (int64_t{1} << doublings);
      wait = std::min(wait, delays.throttle_max);
      return retryAfter(handling, progress, now_ms, wait);
    }
  }
  return finished(Condition::kRetriesExhausted);
}

}  // namespace wick::async
