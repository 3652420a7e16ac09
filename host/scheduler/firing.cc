#include "host/scheduler/firing.h"

#include <date/date.h>

#include <nlohmann/json.hpp>

#include "common/ids.h"

namespace wick::scheduler {

namespace {

using std::chrono::milliseconds;

Result<std::optional<int64_t>> nominalAfter(const Schedule& schedule,
                                            const ScheduleExpression& expression, int64_t after_ms,
                                            const Clock& clock) {
  const int64_t anchor_ms = schedule.start_ms.value_or(schedule.created_ms);
  if (expression.kind == ScheduleExpression::Kind::kRate && clock.minute_ms != 60000) {
    const int64_t period = expression.period.count() * clock.minute_ms;
    if (after_ms < anchor_ms) return std::optional<int64_t>(anchor_ms + period);
    return std::optional<int64_t>(anchor_ms + ((after_ms - anchor_ms) / period + 1) * period);
  }
  // nextFiring works in whole seconds: "strictly after" a fraction of a second
  // is strictly after its floor.
  const Seconds after{
      std::chrono::seconds(after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000)};
  const Seconds anchor{std::chrono::seconds(anchor_ms / 1000)};
  auto next = nextFiring(expression, schedule.time_zone, after, anchor);
  if (!next) return std::move(next).error();
  if (!*next) return std::optional<int64_t>();
  return std::optional<int64_t>(
      std::chrono::duration_cast<milliseconds>((*next)->time_since_epoch()).count());
}

}  // namespace

Result<std::optional<int64_t>> firingAfter(const Schedule& schedule,
                                           const ScheduleExpression& expression, int64_t after_ms,
                                           const Clock& clock) {
  const bool dated = expression.kind != ScheduleExpression::Kind::kAt;
  if (dated && schedule.start_ms && after_ms < *schedule.start_ms - 1)
    after_ms = *schedule.start_ms - 1;
  auto next = nominalAfter(schedule, expression, after_ms, clock);
  if (!next || !*next) return next;
  if (dated && schedule.end_ms && **next > *schedule.end_ms) return std::optional<int64_t>();
  return next;
}

Result<FiringPlan> planFirings(const Schedule& schedule, const ScheduleExpression& expression,
                               const Clock& clock) {
  FiringPlan plan;
  std::optional<int64_t> firing = schedule.next_ms;
  const int64_t oldest_ms = clock.now_ms - schedule.maximum_event_age_seconds * 1000;
  if (firing && *firing < oldest_ms) {
    // Too old to deliver: count what is skipped only up to a bound, then jump.
    while (firing && *firing < oldest_ms && plan.dropped < 10000) {
      ++plan.dropped;
      auto next = firingAfter(schedule, expression, *firing, clock);
      if (!next) return std::move(next).error();
      firing = *next;
    }
    if (firing && *firing < oldest_ms) {
      auto next = firingAfter(schedule, expression, oldest_ms - 1, clock);
      if (!next) return std::move(next).error();
      firing = *next;
    }
  }
  while (firing && *firing <= clock.now_ms) {
    if (plan.deliver.size() < kMaxLateFirings)
      plan.deliver.push_back(*firing);
    else
      ++plan.dropped;
    auto next = firingAfter(schedule, expression, *firing, clock);
    if (!next) return std::move(next).error();
    firing = *next;
  }
  plan.next_ms = firing;
  plan.finished = !firing;
  return plan;
}

int64_t deliveryTime(const Schedule& schedule, int64_t next_ms, const Clock& clock,
                     std::mt19937_64& random) {
  if (schedule.flexible_mode != "FLEXIBLE" || schedule.flexible_window_minutes <= 0) return next_ms;
  std::uniform_int_distribution<int64_t> offset(0,
                                                schedule.flexible_window_minutes * clock.minute_ms);
  return next_ms + offset(random);
}

std::string isoSeconds(int64_t ms) {
  const date::sys_seconds at{std::chrono::seconds(ms / 1000)};
  return date::format("%FT%TZ", at);
}

namespace {

void replaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::string firingPayload(const Schedule& schedule, const FiringContext& context) {
  if (!schedule.input) {
    return nlohmann::json{{"version", "0"},
                          {"id", newUuid()},
                          {"detail-type", "Scheduled Event"},
                          {"source", "aws.scheduler"},
                          {"account", context.account},
                          {"time", isoSeconds(context.scheduled_ms)},
                          {"region", context.region},
                          {"resources", {context.schedule_arn}},
                          {"detail", "{}"}}
        .dump();
  }
  std::string payload = *schedule.input;
  replaceAll(payload, "<aws.scheduler.schedule-arn>", context.schedule_arn);
  replaceAll(payload, "<aws.scheduler.scheduled-time>", isoSeconds(context.scheduled_ms));
  replaceAll(payload, "<aws.scheduler.execution-id>", context.execution_id);
  replaceAll(payload, "<aws.scheduler.attempt-number>", "1");
  return payload;
}

}  // namespace wick::scheduler
