// One HTTP/1.1 POST to a destination service, blocking the calling (worker)
// thread for at most `timeout`: resolve, connect, write and read all count
// against it. http:// only.
#pragma once

#include <chrono>
#include <string>

#include "common/error.h"
#include "host/destinations/requests.h"

namespace wick::destinations {

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

Result<HttpAnswer> postRequest(const OutgoingRequest& request, std::chrono::milliseconds timeout);

}  // namespace wick::destinations
