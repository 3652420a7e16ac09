// One HTTP/1.1 POST to a destination service, asynchronous on the caller's
// executor (no thread waits for the network): resolve, connect, write and
// read all count against one deadline. http:// only.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "common/error.h"
#include "host/destinations/requests.h"

namespace wick::destinations {

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

boost::asio::awaitable<Result<HttpAnswer>> postRequest(const OutgoingRequest& request,
                                                       std::chrono::milliseconds timeout);

}  // namespace wick::destinations
