// The function URL listener's handler: route the request to its URL (Host or
// path prefix), answer a CORS preflight from the config, check the policy
// (NONE) or the signature (AWS_IAM: SigV4 for service "lambda", verified by
// the API's auth::RequestVerifier and logged as its refusals are), invoke with the 2.0 event
// through the Invoker, and map the result to the response as Lambda does.
//
// RESPONSE_STREAM URLs stream (url_stream.h): the answer goes to the client
// chunk by chunk through the request's http::ResponseStream.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <string>
#include <vector>

#include "host/auth/request_verifier.h"
#include "host/http/server.h"
#include "host/invoke/invoker.h"
#include "host/urls/url_directory.h"
#include "host/urls/url_event.h"

namespace wick::urls {

struct GatewaySettings {
  std::string region = "us-east-1";
  std::string domain = "localhost";
  std::string account_id = "000000000000";
  // Proxies whose X-Forwarded-For (and -Proto, -Port) are believed.
  std::vector<std::string> trusted_proxies;
};

class UrlGateway {
 public:
  UrlGateway(UrlDirectory& directory, invoke::Invoker* invoker, boost::asio::thread_pool& workers,
             GatewaySettings settings, const auth::RequestVerifier* verifier)
      : directory_(directory),
        invoker_(invoker),
        workers_(workers),
        settings_(std::move(settings)),
        verifier_(verifier) {}

  boost::asio::awaitable<http::Response> handle(http::Request request);

 private:
  boost::asio::awaitable<std::shared_ptr<const ServedUrl>> find(const std::string& url_id);
  // Who may call: nullopt when allowed (the authorizer context filled for
  // AWS_IAM), else the 403.
  std::optional<http::Response> authorize(const ServedUrl& url, const http::Request& request,
                                          EventContext& context);
  EventContext contextFor(const http::Request& request, const ServedUrl& url,
                          const std::string& raw_path) const;
  boost::asio::awaitable<http::Response> respond(const ServedUrl& url, const http::Request& request,
                                                 const EventContext& context, const Headers& extra);

  UrlDirectory& directory_;
  invoke::Invoker* invoker_;  // null when wick-agent is unavailable
  boost::asio::thread_pool& workers_;
  GatewaySettings settings_;
  // The API's (daemon/api_access.h): one verifier for every signature wickd
  // checks. Null: no credentials, AWS_IAM URLs answer 403.
  const auth::RequestVerifier* verifier_;
};

}  // namespace wick::urls
