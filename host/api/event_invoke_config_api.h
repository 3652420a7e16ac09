// The EventInvokeConfig API (../shared/reference/events.md 2.1-2.3):
//   PUT|POST|GET|DELETE /2019-09-25/functions/{name}/event-invoke-config[?Qualifier=]
//   GET /2019-09-25/functions/{name}/event-invoke-config/list[?Marker=&MaxItems=]
// Put replaces, Update (POST) merges; each qualifier has its own config.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "host/async/event_invoke_config.h"
#include "host/functions/function_service.h"
#include "host/functions/outcome.h"
#include "host/http/server.h"

namespace wick::api {

class EventInvokeConfigApi {
 public:
  EventInvokeConfigApi(async::EventInvokeConfigs& configs, functions::FunctionService& functions,
                       boost::asio::thread_pool& workers)
      : configs_(configs), functions_(functions), workers_(workers) {}

  static bool claims(const http::Request& request);
  boost::asio::awaitable<http::Response> handle(http::Request request);
  functions::Outcome answer(const http::Request& request);  // blocking

 private:
  struct Target {
    std::string function;
    std::string qualifier;  // "$LATEST", a version or an alias
    std::string arn;        // qualified
  };
  // The function and qualifier a request names; for_write: the 404 says the
  // function does not exist (Put, Update) rather than that it has no config.
  std::variant<Target, AwsError> target(const std::string& name, const std::string& qualifier,
                                        bool for_write);
  functions::Outcome put(const Target& target, const std::string& body, bool merge);
  functions::Outcome list(const std::string& name, const http::Request& request);
  std::optional<AwsError> checkDestination(const Target& target, const std::string& arn,
                                           bool on_success, const nlohmann::json& destinations);
  nlohmann::json document(const async::EventInvokeConfig& config) const;

  async::EventInvokeConfigs& configs_;
  functions::FunctionService& functions_;
  boost::asio::thread_pool& workers_;
};

}  // namespace wick::api
