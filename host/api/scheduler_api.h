// The EventBridge Scheduler API subset (../shared/reference/events.md 6) on
// the Lambda listener: POST|GET|PUT|DELETE /schedules/{Name}, GET /schedules.
// Only the `default` group; targets are Lambda functions of this wickd.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "host/api/aws_error.h"
#include "host/functions/function_service.h"
#include "host/functions/outcome.h"
#include "host/http/server.h"
#include "host/scheduler/schedule.h"
#include "host/scheduler/schedule_runner.h"

namespace wick::api {

class SchedulerApi {
 public:
  SchedulerApi(scheduler::ScheduleStore& schedules, scheduler::ScheduleRunner& runner,
               functions::FunctionService& functions, boost::asio::thread_pool& workers)
      : schedules_(schedules), runner_(runner), functions_(functions), workers_(workers) {}

  static bool claims(const http::Request& request);
  boost::asio::awaitable<http::Response> handle(http::Request request);
  functions::Outcome answer(const http::Request& request);  // blocking

 private:
  functions::Outcome write(const std::string& name, const std::string& body, bool create);
  functions::Outcome get(const std::string& name, const http::Request& request);
  functions::Outcome remove(const std::string& name, const http::Request& request);
  functions::Outcome list(const http::Request& request);
  // The request body as a schedule, or why not.
  std::variant<scheduler::Schedule, AwsError> parse(const std::string& name,
                                                    const nlohmann::json& body);
  std::optional<AwsError> checkTarget(const std::string& arn);
  nlohmann::json document(const scheduler::Schedule& schedule) const;

  scheduler::ScheduleStore& schedules_;
  scheduler::ScheduleRunner& runner_;
  functions::FunctionService& functions_;
  boost::asio::thread_pool& workers_;
};

}  // namespace wick::api
