// wick's admin API for the async queue (what `wick events` calls):
//   GET    /wick/v1/events[?function=F]     {"Queued":[...],"Delivering":[...],"Failed":[...]}
//   POST   /wick/v1/events/{id}/replay      a failed event back in the queue
//   DELETE /wick/v1/events?function=F       {"Purged":N}
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "host/async/async_invocations.h"
#include "host/async/event_store.h"
#include "host/http/server.h"

namespace wick::api {

class EventsApi {
 public:
  EventsApi(async::EventStore& store, async::AsyncInvocations* invocations,
            boost::asio::thread_pool& workers)
      : store_(store), invocations_(invocations), workers_(workers) {}

  static bool claims(const http::Request& request);
  boost::asio::awaitable<http::Response> handle(http::Request request);
  http::Response answer(const http::Request& request);  // blocking

 private:
  async::EventStore& store_;
  async::AsyncInvocations* invocations_;  // woken after a replay; may be null
  boost::asio::thread_pool& workers_;
};

}  // namespace wick::api
