#include "host/daemon/dispatch.h"

namespace wick::daemon {

http::Handler dispatchByClaims(std::vector<ApiRoute> table, http::Handler rest) {
  return [table = std::move(table), rest = std::move(rest)](http::Request request) {
    for (const ApiRoute& route : table)
      if (route.claims(request)) return route.handle(std::move(request));
    return rest(std::move(request));
  };
}

}  // namespace wick::daemon
