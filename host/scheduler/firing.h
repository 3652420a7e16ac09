// When a schedule fires, and what a firing delivers (../shared/reference/
// events.md 6.3, 6.4). Pure functions of the schedule and the clock, so the
// firing loop's decisions are unit-tested.
//
// Missed firings (wickd was down): each missed firing no older than the
// target's RetryPolicy.MaximumEventAgeInSeconds (default 86400) is delivered
// late, at most kMaxLateFirings per schedule; older ones are dropped (and
// logged by the loop).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/scheduler/schedule.h"
#include "host/scheduler/schedule_expression.h"

namespace wick::scheduler {

constexpr size_t kMaxLateFirings = 100;

struct Clock {
  int64_t now_ms = 0;
  // The length of a minute for rate(): 60000 except in tests
  // (scheduler_minute_ms in the daemon config).
  int64_t minute_ms = 60000;
};

// The first firing strictly after `after_ms`, within the schedule's start and
// end dates (ignored for at()); none when no firing is left.
Result<std::optional<int64_t>> firingAfter(const Schedule& schedule,
                                           const ScheduleExpression& expression, int64_t after_ms,
                                           const Clock& clock);

struct FiringPlan {
  std::vector<int64_t> deliver;  // scheduled times to deliver now
  size_t dropped = 0;            // missed and too old (or past the cap)
  std::optional<int64_t> next_ms;
  bool finished = false;  // no firing left: ActionAfterCompletion applies
};

// What the loop does for a schedule whose delivery is due at clock.now_ms.
Result<FiringPlan> planFirings(const Schedule& schedule, const ScheduleExpression& expression,
                               const Clock& clock);

// When a firing scheduled at `next_ms` is delivered: then, or at a random
// moment of a FLEXIBLE window.
int64_t deliveryTime(const Schedule& schedule, int64_t next_ms, const Clock& clock,
                     std::mt19937_64& random);

struct FiringContext {
  std::string schedule_arn;
  int64_t scheduled_ms = 0;
  std::string execution_id;
  std::string account;
  std::string region;
};

// The event the target receives: its Input with the context attributes
// replaced, or the default notification when it has none.
std::string firingPayload(const Schedule& schedule, const FiringContext& context);

std::string isoSeconds(int64_t ms);  // 2022-03-22T18:59:43Z

}  // namespace wick::scheduler
