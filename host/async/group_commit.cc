#include "host/async/group_commit.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace wick::async {

namespace asio = boost::asio;

GroupCommit::GroupCommit(EventStore& store) : store_(store), writer_([this] { run(); }) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_one();
  writer_.join();
}

void GroupCommit::submit(Pending pending) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(pending));
  }
  ready_.notify_one();
}

void GroupCommit::run() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, nothing left
      batch.swap(pending_);
    }
    std::vector<AsyncEvent> events;
    events.reserve(batch.size());
    for (const Pending& pending : batch)
      events.push_back(pending.event);
    const Status written = store_.enqueue(events);
    for (Pending& pending : batch)
      pending.done(written);
  }
}

asio::awaitable<Status> GroupCommit::commit(AsyncEvent event) {
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Status)>(
      [this, executor](auto handler, AsyncEvent queued) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        submit({std::move(queued), [shared, executor](Status status) {
                  asio::post(executor, [shared, status]() mutable { (*shared)(status); });
                }});
      },
      asio::use_awaitable, std::move(event));
}

}  // namespace wick::async
