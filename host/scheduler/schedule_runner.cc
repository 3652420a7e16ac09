#include "host/scheduler/schedule_runner.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/ids.h"
#include "host/async/schedule_origin.h"

namespace wick::scheduler {

namespace asio = boost::asio;

namespace {

int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string scheduleArn(const functions::ArnScope& scope, const Schedule& schedule) {
  return "arn:aws:scheduler:" + scope.region + ":" + scope.account + ":schedule/" + schedule.group +
         "/" + schedule.name;
}

ScheduleRunner::ScheduleRunner(ScheduleStore& schedules, async::EventStore& events,
                               std::function<void()> wake_dispatcher, asio::thread_pool& workers,
                               asio::any_io_executor io, RunnerSettings settings)
    : schedules_(schedules),
      events_(events),
      wake_dispatcher_(std::move(wake_dispatcher)),
      workers_(workers),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      settings_(std::move(settings)) {}

void ScheduleRunner::start() {
  asio::co_spawn(strand_, loop(), asio::detached);
}

void ScheduleRunner::stop() {
  asio::post(strand_, [this] {
    stopping_ = true;
    timer_.cancel();
  });
}

void ScheduleRunner::wake() {
  asio::post(strand_, [this] {
    woken_ = true;
    timer_.cancel();
  });
}

asio::awaitable<void> ScheduleRunner::loop() {
  while (!stopping_) {
    woken_ = false;
    co_await asio::post(workers_.get_executor(), asio::use_awaitable);
    if (auto fired = fireDue(nowMillis()); !fired)
      spdlog::error("scheduler: {}", fired.error().message());
    auto next = schedules_.nextDue();
    co_await asio::post(strand_, asio::use_awaitable);
    if (stopping_ || woken_) continue;
    // Look again at least every minute (a clock step, a failed store read).
    auto wait = std::chrono::milliseconds(60000);
    if (next && *next)
      wait = std::min(wait, std::chrono::milliseconds(std::max<int64_t>(**next - nowMillis(), 0)));
    timer_.expires_after(wait);
    boost::system::error_code ignored;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  loop_stopped_ = true;
}

Result<size_t> ScheduleRunner::fireDue(int64_t now_ms) {
  auto due = schedules_.due(now_ms);
  if (!due) return std::move(due).error();
  size_t fired = 0;
  for (const Schedule& schedule : *due) {
    auto count = fire(schedule, now_ms);
    if (!count) {
      spdlog::error("scheduler: schedule {}: {}", schedule.name, count.error().message());
      continue;
    }
    fired += *count;
  }
  return fired;
}

Result<size_t> ScheduleRunner::fire(const Schedule& schedule, int64_t now_ms) {
  auto expression = parseScheduleExpression(schedule.expression);
  if (!expression) return std::move(expression).error().context("parse its expression");
  const Clock clock{now_ms, settings_.minute_ms};
  auto plan = planFirings(schedule, *expression, clock);
  if (!plan) return std::move(plan).error().context("plan its firings");
  if (plan->dropped > 0)
    spdlog::warn("scheduler: schedule {}: {} missed firing(s) dropped (older than {} s or past {})",
                 schedule.name, plan->dropped, schedule.maximum_event_age_seconds, kMaxLateFirings);
  auto target = functions::parseFunctionName(schedule.target_arn);
  if (!target) return Error("target " + schedule.target_arn + " is not a function", EINVAL);
  std::vector<async::AsyncEvent> events;
  for (int64_t scheduled_ms : plan->deliver) {
    async::AsyncEvent event;
    event.id = newUuid();
    event.function = target->name;
    event.qualifier = target->qualifier;
    const std::string execution_id = randomHex(8);
    const std::string arn = scheduleArn(settings_.scope, schedule);
    event.payload = firingPayload(schedule, {arn, scheduled_ms, execution_id,
                                             settings_.scope.account, settings_.scope.region});
    // The target's RetryPolicy and DeadLetterConfig go with it (schedule_origin.h).
    event.origin = async::toOriginJson(
        {arn, schedule.target_arn, execution_id, scheduled_ms, schedule.maximum_event_age_seconds,
         static_cast<int>(schedule.maximum_retry_attempts), schedule.dead_letter_arn});
    event.enqueued_ms = event.next_attempt_ms = now_ms;
    events.push_back(std::move(event));
  }
  // The events are durable before the schedule moves on (see the header).
  if (!events.empty()) {
    WICK_TRY(events_.enqueue(events), "enqueue its firing");
    wake_dispatcher_();
  }
  if (plan->finished && schedule.action_after_completion == "DELETE") {
    WICK_TRY(schedules_.remove(schedule.group, schedule.name, schedule.modified_ms),
             "delete it after completion");
    spdlog::info("scheduler: schedule {} completed and deleted", schedule.name);
    return events.size();
  }
  Schedule advanced = schedule;
  advanced.next_ms = plan->next_ms;
  advanced.due_ms =
      plan->next_ms ? std::optional<int64_t>(deliveryTime(schedule, *plan->next_ms, clock, random_))
                    : std::nullopt;
  // modified_ms stays: an update by the API meanwhile wins over this write.
  WICK_TRY(schedules_.replace(advanced, schedule.modified_ms), "advance it");
  return events.size();
}

}  // namespace wick::scheduler
