// The firing loop: a coroutine on wickd's io_context with a timer to the next
// due schedule, woken when a schedule is created or updated. A firing is an
// async invoke of the target: its event goes into the durable EventStore
// (fsync'd), the dispatcher is woken, and only then is the schedule's next
// firing written. A crash in between fires that time again after the restart
// (a duplicate, which at-least-once delivery allows); none is lost.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <random>

#include "host/async/event_store.h"
#include "host/functions/function_name.h"
#include "host/scheduler/firing.h"
#include "host/scheduler/schedule.h"

namespace wick::scheduler {

struct RunnerSettings {
  functions::ArnScope scope;
  int64_t minute_ms = 60000;
};

std::string scheduleArn(const functions::ArnScope& scope, const Schedule& schedule);

class ScheduleRunner {
 public:
  ScheduleRunner(ScheduleStore& schedules, async::EventStore& events,
                 std::function<void()> wake_dispatcher, boost::asio::thread_pool& workers,
                 boost::asio::any_io_executor io, RunnerSettings settings);

  void start();
  void stop();
  void wake();  // a schedule changed: look again
  // The loop has returned (after stop()): no firing is under way.
  bool stopped() const { return loop_stopped_; }
  const RunnerSettings& settings() const { return settings_; }

  // Fires every schedule due at `now_ms` (blocking; the loop calls it on a
  // worker; tests call it directly). How many firings were enqueued.
  Result<size_t> fireDue(int64_t now_ms);

 private:
  boost::asio::awaitable<void> loop();
  Result<size_t> fire(const Schedule& schedule, int64_t now_ms);

  ScheduleStore& schedules_;
  async::EventStore& events_;
  std::function<void()> wake_dispatcher_;
  boost::asio::thread_pool& workers_;
  // The loop, its timer and woken_ live on the strand.
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  RunnerSettings settings_;
  std::mt19937_64 random_{std::random_device{}()};
  bool woken_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> loop_stopped_{false};
};

}  // namespace wick::scheduler
