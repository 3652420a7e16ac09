// The CloudWatch Logs API subset that `aws logs tail [--follow]`,
// `filter-log-events`, `get-log-events`, `describe-log-groups` and
// `describe-log-streams` use (../shared/reference/events.md 7), over wickd's own
// log streams, plus Put/DeleteRetentionPolicy. A function's log group is
// /aws/lambda/<name>. The JSON 1.1 protocol: POST / with
// X-Amz-Target: Logs_20140328.<Operation>; it shares the Lambda API's listener,
// so `--endpoint-url` is the same for both.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "host/http/server.h"
#include "host/logs/retention.h"

namespace wick::api {

class LogsApi {
 public:
  struct Settings {
    std::string logs_root;
    std::string region = "us-east-1";
    std::string account_id = "000000000000";
  };
  LogsApi(Settings settings, logs::LogRetention& retention, boost::asio::thread_pool& workers)
      : settings_(std::move(settings)), retention_(retention), workers_(workers) {}

  // Whether a request is for this API (its X-Amz-Target).
  static bool claims(const http::Request& request);
  boost::asio::awaitable<http::Response> handle(http::Request request);

  // The operation on a parsed body (on the calling thread: blocking file reads).
  http::Response answer(const std::string& operation, const std::string& body) const;

 private:
  nlohmann::json filterLogEvents(const nlohmann::json& request) const;
  nlohmann::json getLogEvents(const nlohmann::json& request) const;
  nlohmann::json describeLogStreams(const nlohmann::json& request) const;
  nlohmann::json describeLogGroups(const nlohmann::json& request) const;
  nlohmann::json putRetentionPolicy(const nlohmann::json& request) const;
  nlohmann::json deleteRetentionPolicy(const nlohmann::json& request) const;

  // The function whose group the request names (logGroupName or
  // logGroupIdentifier, a name or an ARN); throws ResourceNotFound if none.
  std::string groupFunction(const nlohmann::json& request) const;
  std::string groupArn(const std::string& function) const;

  Settings settings_;
  logs::LogRetention& retention_;
  boost::asio::thread_pool& workers_;
};

}  // namespace wick::api
