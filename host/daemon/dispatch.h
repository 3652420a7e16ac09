// Which API part answers a request, as data: a table of (claims, handler)
// rows tried in order, the Lambda API taking what none claims (it answers
// UnknownOperationException for what it does not know either).
#pragma once

#include <vector>

#include "host/http/server.h"

namespace wick::daemon {

struct ApiRoute {
  const char* part;  // for the reader: which API part the row is
  bool (*claims)(const http::Request& request);
  http::Handler handle;
};

// The handler of a part that has handle(http::Request).
template <typename Part>
http::Handler handlerOf(Part& part) {
  return [&part](http::Request request) { return part.handle(std::move(request)); };
}

http::Handler dispatchByClaims(std::vector<ApiRoute> table, http::Handler rest);

}  // namespace wick::daemon
