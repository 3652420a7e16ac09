#include "host/daemon/api_parts.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "host/daemon/dispatch.h"

namespace wick::daemon {

namespace {

// The Lambda API and wick's image routes under it.
void addLambda(const ApiInputs& in, ApiParts& parts) {
  functions::FunctionService& service = *in.plane.functions;
  parts.lambda = std::make_unique<api::LambdaApi>(service, *in.plane.layers, *in.storage.bases,
                                                  *in.storage.code, in.config.state_dir() + "/logs",
                                                  in.workers, in.path.invoker.get());
  // Images that functions (and their versions) run stay, with their layers.
  parts.images = std::make_unique<api::ImageApi>(
      *in.storage.images, [&service] { return service.imageReferences(); },
      in.config.max_image_bytes());
  parts.lambda->setImageApi(parts.images.get());
  if (const ops::TuningStore* tunings = in.path.tunings.get())
    parts.lambda->setWickView([tunings](const std::string& name, const std::string& version) {
      return nlohmann::json{{"Tuning", tunings->effective(name, version).toJson()},
                            {"Effective", tunings->effectiveDocument(name, version)}};
    });
  parts.lambda->setAsyncInvocations(in.path.async_invocations.get());
  parts.lambda->setEventInvokeConfigs(in.path.event_invoke_configs.get());
}

void addLogs(const ApiInputs& in, ApiParts& parts) {
  const DaemonConfig& config = in.config;
  parts.log_retention = std::make_unique<logs::LogRetention>(
      config.state_dir() + "/logs",
      logs::RetentionSettings{.default_days = static_cast<int>(config.log_retention_days()),
                              .max_bytes = config.max_log_bytes()});
  parts.logs = std::make_unique<api::LogsApi>(
      api::LogsApi::Settings{config.state_dir() + "/logs", config.region(), config.account_id()},
      *parts.log_retention, in.workers);
  boost::asio::co_spawn(
      in.io, logs::sweepPeriodically(*parts.log_retention, in.workers, std::chrono::minutes(10)),
      boost::asio::detached);
}

Status addScheduler(const ApiInputs& in, ApiParts& parts) {
  auto schedules = scheduler::openSqliteScheduleStore(in.config.state_dir() + "/events.db");
  if (!schedules) return std::move(schedules).error();
  parts.schedules = std::move(*schedules);
  async::AsyncInvocations* async = in.path.async_invocations.get();
  parts.schedule_runner = std::make_unique<scheduler::ScheduleRunner>(
      *parts.schedules, *in.path.event_store,
      [async] {
        if (async) async->wake();
      },
      in.workers, in.io.get_executor(),
      scheduler::RunnerSettings{
          .scope = in.plane.functions->settings().scope,
          .minute_ms = std::max<int64_t>(in.config.scheduler_minute_ms(), 1)});
  parts.schedule_runner->start();
  parts.scheduler = std::make_unique<api::SchedulerApi>(*parts.schedules, *parts.schedule_runner,
                                                        *in.plane.functions, in.workers);
  return {};
}

// AWS_IAM URLs check signatures against the API's principals.
Status addFunctionUrls(const ApiInputs& in, ApiParts& parts) {
  auto function_urls = FunctionUrls::open(in.config, in.io, *in.plane.functions,
                                          in.path.invoker.get(), in.workers, &in.access.verifier());
  if (!function_urls) return std::move(function_urls).error();
  parts.function_urls = std::move(*function_urls);
  parts.lambda->setDeletionListener(
      [&url_parts = *parts.function_urls](auto& name, auto& qualifier) {
        url_parts.api().forgetDeleted(name, qualifier);
      });
  return {};
}

}  // namespace

Result<ApiParts> buildApiParts(const ApiInputs& in) {
  ApiParts parts;
  addLambda(in, parts);
  addLogs(in, parts);
  parts.operator_api =
      std::make_unique<api::OperatorApi>(in.path.invoker.get(), *in.path.tunings, in.workers);
  if (!in.config.metrics_listen().empty()) parts.operator_api->addMetrics(*in.path.metrics);
  parts.events = std::make_unique<api::EventsApi>(*in.path.event_store,
                                                  in.path.async_invocations.get(), in.workers);
  parts.event_invoke_configs = std::make_unique<api::EventInvokeConfigApi>(
      *in.path.event_invoke_configs, *in.plane.functions, in.workers);
  if (auto added = addScheduler(in, parts); !added) return std::move(added).error();
  if (auto added = addFunctionUrls(in, parts); !added) return std::move(added).error();
  parts.dispatch = dispatchByClaims(
      {
          {"CloudWatch Logs", &api::LogsApi::claims, handlerOf(*parts.logs)},
          {"wick events", &api::EventsApi::claims, handlerOf(*parts.events)},
          {"operator", &api::OperatorApi::claims, handlerOf(*parts.operator_api)},
          {"Scheduler", &api::SchedulerApi::claims, handlerOf(*parts.scheduler)},
          {"function URLs", &api::FunctionUrlApi::claims, handlerOf(parts.function_urls->api())},
          {"EventInvokeConfig", &api::EventInvokeConfigApi::claims,
           handlerOf(*parts.event_invoke_configs)},
      },
      handlerOf(*parts.lambda));
  return parts;
}

}  // namespace wick::daemon
