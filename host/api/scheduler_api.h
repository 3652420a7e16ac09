// The EventBridge Scheduler API subset (../shared/reference/events.md 6) on
// the Lambda listener: POST|GET|PUT|DELETE /schedules/{Name}, GET /schedules,
// POST|GET|DELETE /schedule-groups/{Name}, GET /schedule-groups (the
// `default` group always exists; deleting a group deletes its schedules).
// Writes are idempotent under their ClientToken: the same token with the
// same request answers as the first time, with another request it is a
// ConflictException. Targets are Lambda functions of this wickd.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <mutex>
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
  functions::Outcome answerGroups(const http::Request& request);  // scheduler_groups_api.cc
  functions::Outcome createGroup(const std::string& name, const std::string& body);
  functions::Outcome getGroup(const std::string& name);
  functions::Outcome removeGroup(const std::string& name, const http::Request& request);
  functions::Outcome listGroups(const http::Request& request);
  nlohmann::json groupDocument(const scheduler::ScheduleGroup& group) const;
  // The write under its client token (none: just the write). `request`
  // says what was asked (without the token), to compare with a reuse.
  functions::Outcome idempotent(const std::string& token, const std::string& request,
                                const std::function<functions::Outcome()>& perform);
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
  std::mutex writes_;
};

}  // namespace wick::api
