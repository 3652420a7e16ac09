// Group commit for the async intake: every accepted event must be fsync'd
// before its 202, and an fsync costs milliseconds, so the events that arrive
// while one batch is being written go together in the next: one fsync for
// many 202s. One thread writes; callers wait without holding a thread.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "host/async/event_store.h"

namespace wick::async {

class GroupCommit {
 public:
  explicit GroupCommit(EventStore& store);
  ~GroupCommit();  // writes what is pending, then stops
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Resumes the caller, on its own executor, once the event is on disk.
  boost::asio::awaitable<Status> commit(AsyncEvent event);

 private:
  struct Pending {
    AsyncEvent event;
    std::function<void(Status)> done;
  };
  void submit(Pending pending);
  void run();

  EventStore& store_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<Pending> pending_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace wick::async
