// InvokeWithResponseStream (events.md 5.1): POST
// /2021-11-15/functions/{name}/response-streaming-invocations. The response is
// an application/vnd.amazon.eventstream of PayloadChunk events written as the
// function's chunks come (HTTP chunked, paced by the client: a slow reader
// slows the runtime, nothing piles up in wickd), then one InvokeComplete with
// the error and log tail. Failures before the function runs are ordinary AWS
// errors; a function that does not stream gives its whole response as one
// PayloadChunk, as on Lambda.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <string>
#include <vector>

#include "host/functions/function_service.h"
#include "host/http/server.h"
#include "host/invoke/invoker.h"

namespace wick::api {

class ResponseStreamApi {
 public:
  ResponseStreamApi(invoke::Invoker& invoker, functions::FunctionService& functions,
                    boost::asio::thread_pool& workers)
      : invoker_(invoker), functions_(functions), workers_(workers) {}

  boost::asio::awaitable<http::Response> handle(const http::Request& request,
                                                const std::string& function_name,
                                                const std::string& request_id);

 private:
  invoke::Invoker& invoker_;
  functions::FunctionService& functions_;
  boost::asio::thread_pool& workers_;
};

}  // namespace wick::api
