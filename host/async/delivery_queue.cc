#include "host/async/delivery_queue.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/ids.h"
#include "host/workers.h"

namespace wick::async {

namespace asio = boost::asio;

DeliveryQueue::DeliveryQueue(EventStore& store, const destinations::Delivery* delivery,
                             asio::thread_pool& workers, asio::any_io_executor io,
                             DeliveryQueueSettings settings)
    : store_(store),
      delivery_(delivery),
      workers_(workers),
      io_(io),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      settings_(settings) {}

void DeliveryQueue::start() {
  asio::co_spawn(strand_, loop(), asio::detached);
}

void DeliveryQueue::stop() {
  stopping_ = true;
  wake();
}

void DeliveryQueue::wake() {
  asio::post(strand_, [this] {
    woken_ = true;
    timer_.cancel();
  });
}

asio::awaitable<void> DeliveryQueue::loop() {
  while (!stopping_) {
    woken_ = false;
    const size_t room = settings_.max_in_flight - std::min(settings_.max_in_flight, tries_.load());
    const int64_t now = epochMillis();
    if (room > 0) {
      auto due = co_await onWorkers(workers_, [&] {
        return store_.takeDueDeliveries(now, room, now + settings_.lease.count());
      });
      if (!due) spdlog::error("delivery queue: {}", due.error().message());
      for (PendingDelivery& delivery : due ? *due : std::vector<PendingDelivery>()) {
        ++tries_;
        asio::co_spawn(io_, attempt(std::move(delivery)), asio::detached);
      }
      if (due && !due->empty() && due->size() == room) continue;  // more may be due
    }
    auto next = co_await onWorkers(workers_, [&] { return store_.nextDeliveryDue(); });
    if (stopping_ || woken_) continue;
    // Until the next delivery is due (at most a second: a shared store may
    // have new ones from another daemon), or until woken.
    int64_t wait_ms = 1000;
    if (next && *next) wait_ms = std::clamp<int64_t>(**next - epochMillis(), 0, 1000);
    if (room == 0) wait_ms = 1000;  // a settled try wakes the loop
    if (wait_ms == 0) continue;
    timer_.expires_after(std::chrono::milliseconds(wait_ms));
    boost::system::error_code cancelled;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
  }
  loop_stopped_ = true;
}

asio::awaitable<void> DeliveryQueue::attempt(PendingDelivery delivery) {
  struct Settled {
    DeliveryQueue& self;
    ~Settled() {
      --self.tries_;
      self.wake();
    }
  } settled{*this};
  // (Not a co_await inside ?: — GCC 12 destroys its temporaries twice.)
  Status sent = Error("no destination endpoint is configured for " + delivery.message.target_arn);
  if (delivery_ != nullptr) sent = co_await delivery_->sendOnce(delivery.message);
  Status kept = co_await onWorkers(workers_, [&]() -> Status {
    if (sent) return store_.removeDelivery(delivery.id);
    return settleFailure(delivery, sent.error().message());
  });
  if (!kept)
    spdlog::error("delivery to {} of event {}: {}", delivery.message.target_arn,
                  delivery.failed.event.id, kept.error().message());
}

Status DeliveryQueue::settleFailure(PendingDelivery& delivery, const std::string& error) {
  ++delivery.attempts;
  delivery.last_error = error;
  const bool configured = delivery_ != nullptr && delivery_->check(delivery.message);
  const size_t retries = delivery_ != nullptr ? delivery_->retryDelays().size() : 0;
  if (configured && static_cast<size_t>(delivery.attempts) <= retries) {
    const auto wait = delivery_->retryDelays()[static_cast<size_t>(delivery.attempts) - 1];
    delivery.next_attempt_ms = epochMillis() + wait.count();
    spdlog::info("delivery to {} of event {} failed (try {}), next try in {} ms: {}",
                 delivery.message.target_arn, delivery.failed.event.id, delivery.attempts,
                 wait.count(), error);
    return store_.rescheduleDelivery(delivery);
  }
  const std::string what = delivery.message.dead_letter ? "DeadLetterConfig: " : "";
  const std::string reason = what + "delivery to " + delivery.message.target_arn +
                             " failed after " + std::to_string(delivery.attempts) +
                             " tries: " + error;
  spdlog::warn("async event {}: {}", delivery.failed.event.id, reason);
  if (metrics_)
    metrics_->deliveryFailed(delivery.failed.event.function, delivery.message.dead_letter);
  return store_.giveUpDelivery(delivery, reason, epochMillis());
}

}  // namespace wick::async
