// Asynchronous invocation (../shared/reference/events.md 1): Invoke with
// X-Amz-Invocation-Type: Event and the deprecated InvokeAsync put the event in
// the durable queue and answer 202 only once it is on disk; the dispatcher
// runs queued events through the same invoke path as synchronous calls (warm
// pool, concurrency, logs), retries them as Lambda does (retry_policy.h), and
// gives each finished event's record to its end: a failure with no
// destination goes to the failed-event store (`wick events`), never lost.
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
#include <chrono>

#include "host/async/delivery_queue.h"
#include "host/async/event_invoke_config.h"
#include "host/async/event_store.h"
#include "host/async/group_commit.h"
#include "host/async/retry_policy.h"
#include "host/async/schedule_origin.h"
#include "host/destinations/delivery.h"
#include "host/functions/function_service.h"
#include "host/http/server.h"
#include "host/invoke/invoker.h"
#include "host/metrics/metrics.h"

namespace wick::async {

struct AsyncSettings {
  RetryDelays delays;
  // Attempts at once (each holds a concurrency permit while it runs).
  size_t max_in_flight = 64;
  // How long an attempt holds its event before another may take it (past the
  // 15-minute timeout).
  std::chrono::minutes lease{16};
};

class AsyncInvocations {
 public:
  AsyncInvocations(EventStore& store, EventInvokeConfigs& configs,
                   functions::FunctionService& functions, invoke::Invoker& invoker,
                   boost::asio::thread_pool& workers, boost::asio::any_io_executor io,
                   AsyncSettings settings);

  // Invoke (Event) and InvokeAsync: the function must exist, the payload be
  // JSON within `max_payload`; then 202 once the event is durable.
  boost::asio::awaitable<http::Response> accept(const http::Request& request,
                                                const std::string& function_name,
                                                const std::string& request_id, size_t max_payload,
                                                bool invoke_async);

  // Starts the dispatcher: it takes due events and runs them, until stop().
  void start();
  void stop();
  // The dispatcher looks at the queue again now (an event came, or room).
  void wake();
  // Counts received, attempted (their age) and dropped events there (none: off).
  void setMetrics(metrics::Metrics* metrics) {
    metrics_ = metrics;
    deliveries_.setMetrics(metrics);
  }
  // Where records for SQS, SNS and EventBridge and dead letters go (tried
  // by the delivery queue); none: those records stay in the failed-event
  // store. Before start().
  void setDelivery(const destinations::Delivery* delivery) {
    delivery_ = delivery;
    deliveries_.setDelivery(delivery);
  }
  // dispatch() has returned and no attempt or delivery is running.
  bool stopped() const { return dispatch_stopped_ && attempts_ == 0 && deliveries_.stopped(); }

 private:
  boost::asio::awaitable<void> dispatch();  // on strand_
  boost::asio::awaitable<void> attempt(AsyncEvent event);
  // The event's life ended: in one transaction it leaves the queue, its
  // record goes to the destination the config names (a function of this
  // wickd gets it as an async event of its own; another service's
  // destination and the DeadLetterConfig target are queued for the delivery
  // queue), and a failure with no destination (or one wick cannot reach)
  // goes to the failed-event store.
  Status finish(const AsyncEvent& event, Condition condition, const http::Response* last,
                const std::string& function_arn, const EventInvokeConfig& config);
  // A destination that is a function of this wickd: the record as its event
  // (nullopt: the destination is not one of ours).
  Result<std::optional<AsyncEvent>> recordForFunction(const std::string& destination,
                                                      const std::string& record);
  // The record handed on in `end`; an error says why it cannot be.
  Status handOnRecord(const std::string& destination, const std::string& function_arn, bool success,
                      const FailedEvent& failed, EventEnd& end);
  // A schedule's firing whose invoke failed (`error`, before the function
  // ran): retried by the schedule's RetryPolicy, or its event to the
  // schedule's DeadLetterConfig queue (none: the failed-event store).
  Status scheduledInvokeFailed(AsyncEvent& event, const ScheduleOrigin& origin,
                               const api::AwsError& error, const std::string& function_arn);
  // The function's DeadLetterConfig.TargetArn ("" if none).
  std::string deadLetterTarget(const AsyncEvent& event);
  Status handOnDeadLetter(const std::string& target, const http::Response* last,
                          const FailedEvent& failed, EventEnd& end);
  template <typename Work>
  boost::asio::awaitable<std::invoke_result_t<Work>> onWorkers(Work work);

  EventStore& store_;
  GroupCommit intake_;
  EventInvokeConfigs& configs_;
  functions::FunctionService& functions_;
  invoke::Invoker& invoker_;
  boost::asio::thread_pool& workers_;
  boost::asio::any_io_executor io_;
  // The dispatcher, its timer and woken_ live on the strand.
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer wake_;
  bool woken_ = false;
  AsyncSettings settings_;
  const destinations::Delivery* delivery_ = nullptr;
  DeliveryQueue deliveries_;
  std::atomic<size_t> attempts_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> dispatch_stopped_{false};
  metrics::Metrics* metrics_ = nullptr;
};

// The destination record Lambda writes (events.md 3).
std::string invocationRecord(const AsyncEvent& event, Condition condition,
                             const std::string& function_arn, const http::Response* last);

}  // namespace wick::async
