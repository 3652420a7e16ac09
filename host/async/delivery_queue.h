// The delivery queue: records and dead letters for other services (SQS, SNS,
// EventBridge) wait in the EventStore (written with the end of their event,
// see EventEnd) and are tried here, each try an asynchronous signed request
// on the io_context, so neither a slow nor a failing endpoint holds a thread
// or stalls other deliveries. A failed try is rescheduled in the store after
// the next of the configured waits (durable: a restarted wickd goes on where
// the last left off); when they run out, the event goes to the failed-event
// store with the reason. At least once: a delivery whose daemon died between
// the answer and its removal is made again.
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

#include "host/async/event_store.h"
#include "host/destinations/delivery.h"
#include "host/metrics/metrics.h"

namespace wick::async {

struct DeliveryQueueSettings {
  // Tries under way at once.
  size_t max_in_flight = 32;
  // How long a try holds its delivery before another may take it (past any
  // request deadline).
  std::chrono::milliseconds lease{std::chrono::minutes(5)};
};

class DeliveryQueue {
 public:
  // delivery: where messages go; null: none is configured, and every
  // pending delivery ends in the failed-event store.
  DeliveryQueue(EventStore& store, const destinations::Delivery* delivery,
                boost::asio::thread_pool& workers, boost::asio::any_io_executor io,
                DeliveryQueueSettings settings = {});

  // Before start().
  void setDelivery(const destinations::Delivery* delivery) { delivery_ = delivery; }
  // Counts the deliveries given up there (none: off). Before start().
  void setMetrics(metrics::Metrics* metrics) { metrics_ = metrics; }
  void start();
  void stop();
  // A delivery was added (or a try ended): look at the store again.
  void wake();
  bool stopped() const { return loop_stopped_ && tries_ == 0; }

 private:
  boost::asio::awaitable<void> loop();  // on strand_
  boost::asio::awaitable<void> attempt(PendingDelivery delivery);
  // After a failed try: rescheduled, or given up when the waits are used up.
  Status settleFailure(PendingDelivery& delivery, const std::string& error);

  EventStore& store_;
  const destinations::Delivery* delivery_;
  metrics::Metrics* metrics_ = nullptr;
  boost::asio::thread_pool& workers_;
  boost::asio::any_io_executor io_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  DeliveryQueueSettings settings_;
  bool woken_ = false;  // on strand_
  std::atomic<size_t> tries_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> loop_stopped_{false};
};

}  // namespace wick::async
