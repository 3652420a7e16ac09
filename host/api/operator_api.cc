#include "host/api/operator_api.h"

#include <spdlog/spdlog.h>

#include "common/ids.h"
#include "host/api/aws_error.h"
#include "host/api/outcome_response.h"
#include "host/workers.h"

namespace wick::api {

namespace asio = boost::asio;
using http::beast_http::verb;
using invoke::LiveEnvironments;
using nlohmann::json;

namespace {

constexpr std::string_view kSandboxes = "/wick/v1/sandboxes";
constexpr std::string_view kTuning = "/wick/v1/tuning";

http::Response reply(const json& body) {
  http::Response response{http::beast_http::status::ok, 11};
  response.set(http::beast_http::field::content_type, "application/json");
  response.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

bool under(const std::string& path, std::string_view prefix) {
  return path == prefix || path.starts_with(std::string(prefix) + "/");
}

double secondsSince(LiveEnvironments::Clock::time_point then) {
  return std::chrono::duration<double>(LiveEnvironments::Clock::now() - then).count();
}

json sandboxDocument(const std::string& id, const LiveEnvironments::Entry& entry,
                     const ops::TuningStore& tunings) {
  const invoke::Environment& environment = *entry.environment;
  json document = {
      {"Id", id},
      {"Function", environment.functionName()},
      {"Version", environment.version()},
      {"State", LiveEnvironments::toString(entry.state)},
      {"AgeSeconds", secondsSince(entry.created)},
      {"IdleSeconds", entry.state == LiveEnvironments::State::kWarm ||
                              entry.state == LiveEnvironments::State::kFrozen
                          ? secondsSince(entry.last_used)
                          : 0.0},
      {"Invocations", entry.invocations},
      {"MemorySizeMb", entry.memory_mb},
      {"Tuning", tunings.effective(environment.functionName(), environment.version()).toJson()}};
  auto inspection = environment.sandbox().inspect();
  if (!inspection) {
    document["Error"] = inspection.error().message();
    return document;
  }
  const sandbox::CgroupStats& stats = inspection->stats;
  document.update({{"MemoryCurrentBytes", stats.memory_current_bytes},
                   {"MemoryPeakBytes", stats.memory_peak_bytes},
                   {"MemoryMaxBytes", inspection->memory_max_bytes},
                   {"SwapMaxBytes", inspection->swap_max_bytes},
                   {"CpuUsedNs", stats.cpu_usage_ns},
                   {"CpuThrottledNs", inspection->cpu_throttled_ns},
                   {"CpuPeriods", inspection->cpu_periods},
                   {"CpuThrottledPeriods", inspection->cpu_throttled_periods},
                   {"CpuQuotaUs", inspection->cpu_quota_us},
                   {"CpuPeriodUs", inspection->cpu_period_us},
                   {"PidsCurrent", stats.pids_current},
                   {"PidsMax", inspection->pids_max},
                   {"IoWeight", inspection->io_weight},
                   {"OomKills", stats.oom_kills}});
  return document;
}

}  // namespace

bool OperatorApi::claims(const http::Request& request) {
  return under(request.path, kSandboxes) || under(request.path, kTuning);
}

asio::awaitable<http::Response> OperatorApi::handle(http::Request request) {
  co_return co_await onWorkers(workers_, [&] { return answer(request); });
}

json OperatorApi::sandboxes() const {
  json list = json::array();
  if (invoker_)
    invoker_->live().forEach([&](const std::string& id, LiveEnvironments::Entry& entry) {
      list.push_back(sandboxDocument(id, entry, tunings_));
    });
  return list;
}

http::Response OperatorApi::answer(const http::Request& request) {
  const std::string request_id = newUuid();
  if (under(request.path, kTuning))
    return tuning(request, request_id, request.path.substr(kTuning.size()));
  const std::string rest = request.path.substr(kSandboxes.size());
  if (rest.empty() && request.method == verb::get) {
    json body = {{"Sandboxes", sandboxes()}};
    if (invoker_) {
      const invoke::HostBudget budget = invoker_->admission().budget();
      const invoke::Admission::Committed committed = invoker_->admission().committed();
      body["Budget"] = {{"MemoryMb", budget.memory_mb}, {"Vcpus", budget.vcpus}};
      body["Committed"] = {{"MemoryMb", committed.memory_mb}, {"Vcpus", committed.vcpus}};
    }
    return reply(body);
  }
  if (rest.size() > 1 && request.method == verb::delete_) {
    const std::string id = http::percentDecode(rest.substr(1));
    if (!invoker_) return toResponse(resourceNotFound("No live sandbox " + id), request_id);
    auto retired = invoker_->retire(id);
    if (!retired) {
      if (retired.error().errNo() == ENOENT)
        return toResponse(resourceNotFound("No live sandbox " + id), request_id);
      return respond(internalError(retired.error().message()), request, request_id);
    }
    return reply({{"Id", id}, {"State", LiveEnvironments::toString(*retired)}});
  }
  return toResponse(AwsError{404, "UnknownOperationException", "Unknown operation " + request.path},
                    request_id);
}

http::Response OperatorApi::tuning(const http::Request& request, const std::string& request_id,
                                   const std::string& rest) {
  if (rest.empty() && request.method == verb::get) {
    json list = json::array();
    for (const auto& [target, tuning] : tunings_.all())
      list.push_back({{"Function", target.function},
                      {"Qualifier", target.qualifier},
                      {"Tuning", tuning.toJson()}});
    return reply({{"Tunings", list}});
  }
  if (rest.size() <= 1) return toResponse(invalidParameter("tuning needs a function"), request_id);
  auto target =
      ops::parseTuningTarget(http::percentDecode(rest.substr(1)), request.queryValue("Qualifier"));
  if (!target) return toResponse(invalidParameter(target.error().message()), request_id);
  const std::string version = target->qualifier.empty() ? "$LATEST" : target->qualifier;
  auto describe = [&](json extra) {
    extra.update({{"Function", target->function},
                  {"Qualifier", target->qualifier},
                  {"Tuning", tunings_.stored(*target).toJson()},
                  {"Effective", tunings_.effectiveDocument(target->function, version)}});
    return reply(extra);
  };
  if (request.method == verb::get) return describe(json::object());
  const bool set = request.method == verb::put || request.method == verb::post;
  if (set || request.method == verb::delete_) {
    if (set) {
      auto document = json::parse(request.body, nullptr, false);
      if (document.is_discarded())
        return toResponse(invalidRequestContent("the tuning must be a JSON object"), request_id);
      auto tuning = ops::Tuning::fromJson(document);
      if (!tuning) return toResponse(invalidParameter(tuning.error().message()), request_id);
      if (tuning->empty())
        return toResponse(invalidParameter("nothing to tune (see wick tune --help)"), request_id);
      if (auto stored = tunings_.put(*target, *tuning); !stored)
        return respond(internalError(stored.error().message()), request, request_id);
    } else if (auto reset = tunings_.reset(*target); !reset) {
      return respond(internalError(reset.error().message()), request, request_id);
    }
    auto [applied, warnings] = applyLive(*target);
    spdlog::info("operator {} tuning of {}{}{}: {} (applied to {} live sandboxes)",
                 set ? "sets" : "resets", target->function, target->qualifier.empty() ? "" : ":",
                 target->qualifier, tunings_.stored(*target).toJson().dump(), applied);
    return describe({{"AppliedToSandboxes", applied}, {"Warnings", warnings}});
  }
  return toResponse(AwsError{404, "UnknownOperationException", "Unknown operation " + request.path},
                    request_id);
}

std::pair<int, std::vector<std::string>> OperatorApi::applyLive(const ops::TuningTarget& target) {
  int applied = 0;
  std::vector<std::string> warnings;
  if (!invoker_) return {applied, warnings};
  invoker_->live().forEach([&](const std::string& id, LiveEnvironments::Entry& entry) {
    invoke::Environment& environment = *entry.environment;
    if (environment.functionName() != target.function) return;
    if (!target.qualifier.empty() && environment.version() != target.qualifier) return;
    const invoke::ResourcePolicy policy =
        tunings_.policyFor(environment.functionName(), environment.version());
    const sandbox::Resources resources = invoke::sandboxResources(entry.memory_mb, policy);
    // Init ends by writing its plan's limits: these are written again then.
    if (entry.state == LiveEnvironments::State::kInit) entry.after_init = resources;
    auto updated = environment.sandbox().updateResources(resources);
    if (!updated) {
      warnings.push_back(id + ": " + updated.error().message());
      return;
    }
    ++applied;
    if (policy.io_weight > 0)
      if (auto inspection = environment.sandbox().inspect(); inspection && !inspection->io_weight)
        warnings.push_back(id +
                           ": IoWeight not applied (no io controller in its cgroup; "
                           "cgroup v2 with io only)");
  });
  return {applied, warnings};
}

void OperatorApi::addMetrics(metrics::Metrics& metrics) {
  metrics.addScrapeSource([this] {
    struct Gauge {
      const char* name;
      const char* help;
      const char* key;
      double scale;
    };
    static constexpr Gauge kGauges[] = {
        {"wick_sandbox_memory_bytes", "Memory a sandbox's cgroup uses now", "MemoryCurrentBytes",
         1},
        {"wick_sandbox_memory_peak_bytes", "Peak memory of a sandbox's cgroup", "MemoryPeakBytes",
         1},
        {"wick_sandbox_memory_limit_bytes", "memory.max of a sandbox", "MemoryMaxBytes", 1},
        {"wick_sandbox_cpu_seconds_total", "CPU a sandbox used", "CpuUsedNs", 1e-9},
        {"wick_sandbox_cpu_throttled_seconds_total", "Time CFS throttled a sandbox",
         "CpuThrottledNs", 1e-9},
        {"wick_sandbox_pids", "Tasks in a sandbox", "PidsCurrent", 1},
    };
    const json list = sandboxes();
    std::vector<prometheus::MetricFamily> families;
    for (const Gauge& gauge : kGauges) {
      const bool counter = std::string_view(gauge.name).ends_with("_total");
      prometheus::MetricFamily family{
          gauge.name,
          gauge.help,
          counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge,
          {}};
      for (const json& sandbox : list) {
        if (!sandbox.contains(gauge.key)) continue;
        prometheus::ClientMetric metric;
        metric.label = {{"sandbox", sandbox["Id"].get<std::string>()},
                        {"function_name", sandbox["Function"].get<std::string>()},
                        {"executed_version", sandbox["Version"].get<std::string>()},
                        {"state", sandbox["State"].get<std::string>()}};
        const double value = sandbox[gauge.key].get<double>() * gauge.scale;
        if (counter)
          metric.counter.value = value;
        else
          metric.gauge.value = value;
        family.metric.push_back(std::move(metric));
      }
      families.push_back(std::move(family));
    }
    if (!invoker_) return families;
    invoke::Admission& admission = invoker_->admission();
    prometheus::MetricFamily refusals{"wick_admission_refusals_total",
                                      "Cold starts refused by the host budget, by reason",
                                      prometheus::MetricType::Counter,
                                      {}};
    for (const auto& [reason, count] : admission.refusals()) {
      prometheus::ClientMetric metric;
      metric.label = {{"reason", reason}};
      metric.counter.value = static_cast<double>(count);
      refusals.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(refusals));
    auto single = [&](const char* name, const char* help, prometheus::MetricType type,
                      double value) {
      prometheus::ClientMetric metric;
      if (type == prometheus::MetricType::Counter)
        metric.counter.value = value;
      else
        metric.gauge.value = value;
      families.push_back({name, help, type, {metric}});
    };
    single("wick_admission_reclaimed_total",
           "Idle environments reclaimed to admit a cold start under the host budget",
           prometheus::MetricType::Counter, static_cast<double>(admission.reclaimed()));
    single("wick_host_memory_budget_bytes", "Memory all sandboxes may be given (0: unlimited)",
           prometheus::MetricType::Gauge,
           static_cast<double>(admission.budget().memory_mb) * 1024 * 1024);
    single("wick_host_memory_committed_bytes", "Memory limits of the live sandboxes, summed",
           prometheus::MetricType::Gauge,
           static_cast<double>(admission.committed().memory_mb) * 1024 * 1024);
    return families;
  });
}

}  // namespace wick::api
