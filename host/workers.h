// Blocking work (SQLite, the file system, clone) off the I/O threads: run on
// the worker pool, then resume on the caller's executor.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

namespace wick {

template <typename Work>
boost::asio::awaitable<std::invoke_result_t<Work>> onWorkers(boost::asio::thread_pool& workers,
                                                             Work work) {
  auto home = co_await boost::asio::this_coro::executor;
  co_await boost::asio::post(workers.get_executor(), boost::asio::use_awaitable);
  auto result = work();
  co_await boost::asio::post(home, boost::asio::use_awaitable);
  co_return result;
}

}  // namespace wick
