// A control-plane Outcome as its HTTP answer, for every API part that
// answers with one (Lambda, EventInvokeConfig, function URLs, Scheduler).
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

#include "host/api/aws_error.h"
#include "host/functions/outcome.h"
#include "host/http/server.h"

namespace wick::api {

// A Reply: its status and JSON body (none: no body, as for a 204); an
// AwsError: its AWS shape (toResponse).
http::Response toHttp(const functions::Outcome& outcome, const std::string& request_id);

// toHttp, a failure logged first with the request's method and path
// (logFailure: a 5xx at error level with its cause).
http::Response respond(const functions::Outcome& outcome, const http::Request& request,
                       const std::string& request_id);

// `answer` run on the worker pool (blocking store work); an exception it
// throws is a 500 naming the path, its cause logged by respond.
boost::asio::awaitable<functions::Outcome> outcomeOnWorkers(
    boost::asio::thread_pool& workers, const http::Request& request,
    std::function<functions::Outcome()> answer);

// outcomeOnWorkers, then respond with a fresh request id: the whole of a
// handle() for the parts that answer with an Outcome.
boost::asio::awaitable<http::Response> respondOnWorkers(boost::asio::thread_pool& workers,
                                                        const http::Request& request,
                                                        std::function<functions::Outcome()> answer);

}  // namespace wick::api
