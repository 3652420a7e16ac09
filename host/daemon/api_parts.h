// The API parts wickd serves on its listeners, built over the control plane
// and the invoke path, and the table that picks one for each request
// (dispatch.h).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "common/error.h"
#include "host/api/event_invoke_config_api.h"
#include "host/api/events_api.h"
#include "host/api/image_api.h"
#include "host/api/lambda_api.h"
#include "host/api/logs_api.h"
#include "host/api/operator_api.h"
#include "host/api/scheduler_api.h"
#include "host/daemon/api_access.h"
#include "host/daemon/control_plane.h"
#include "host/daemon/function_urls.h"
#include "host/daemon/invoke_path.h"
#include "host/daemon/storage.h"
#include "host/logs/retention.h"
#include "host/scheduler/schedule_runner.h"

namespace wick::daemon {

struct ApiParts {
  std::unique_ptr<api::LambdaApi> lambda;
  std::unique_ptr<api::ImageApi> images;
  std::unique_ptr<logs::LogRetention> log_retention;
  // The CloudWatch Logs subset shares the listener: one --endpoint-url for both.
  std::unique_ptr<api::LogsApi> logs;
  std::unique_ptr<api::OperatorApi> operator_api;
  std::unique_ptr<api::EventsApi> events;
  std::unique_ptr<api::EventInvokeConfigApi> event_invoke_configs;
  // Schedules (EventBridge Scheduler subset): their firings go into the async queue.
  std::unique_ptr<scheduler::ScheduleStore> schedules;
  std::unique_ptr<scheduler::ScheduleRunner> schedule_runner;
  std::unique_ptr<api::SchedulerApi> scheduler;
  // Function URLs: their API beside Lambda's, their own listener (issue 13).
  std::unique_ptr<FunctionUrls> function_urls;
  // Every part above by its claims(), the Lambda API for the rest.
  http::Handler dispatch;
};

struct ApiInputs {
  const DaemonConfig& config;
  Storage& storage;
  ControlPlane& plane;
  InvokePath& path;
  const ApiAccess& access;
  boost::asio::io_context& io;
  boost::asio::thread_pool& workers;
};
Result<ApiParts> buildApiParts(const ApiInputs& in);

}  // namespace wick::daemon
