// One HTTP/1.1 POST to a destination service, asynchronous on the caller's
// executor (no thread waits for the network): resolve, connect, the TLS
// handshake, write and read all count against one deadline. https:// verifies
// the peer's certificate chain (the system's CA certificates, or only those
// of the operator's CA file) and that it names the endpoint's host.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/error.h"
#include "host/destinations/requests.h"

namespace wick::destinations {

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

// The client side of TLS for https endpoints: TLS 1.2 or later, peers
// verified against `ca_file` (PEM) or, when it is "", the system's CAs.
Result<std::shared_ptr<boost::asio::ssl::context>> clientTlsContext(const std::string& ca_file);

// `tls` is needed for an https endpoint (an error without one).
boost::asio::awaitable<Result<HttpAnswer>> postRequest(const OutgoingRequest& request,
                                                       std::chrono::milliseconds timeout,
                                                       boost::asio::ssl::context* tls = nullptr);

}  // namespace wick::destinations
