// The operator's hold on live environments: retiring one (`wick sandboxes kill`).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "host/invoke/invoker.h"

namespace wick::invoke {

Result<LiveEnvironments::State> Invoker::retire(const std::string& sandbox_id) {
  // Idle: out of the pool, so no invoke can take it meanwhile, then destroyed.
  if (std::unique_ptr<Environment> idle = pool_.takeSandbox(sandbox_id)) {
    LiveEnvironments::State state =
        idle->frozen() ? LiveEnvironments::State::kFrozen : LiveEnvironments::State::kWarm;
    live_.remove(*idle);
    spdlog::info("operator retires idle environment {} of {}:{}", sandbox_id, idle->functionName(),
                 idle->version());
    WICK_TRY(idle->destroy(), "retire sandbox " + sandbox_id);
    return state;
  }
  // Busy (or being frozen): killed where it stands. Its invoke sees the
  // runtime die, answers as Lambda does, and the environment is not reused.
  Status killed;
  LiveEnvironments::State state = LiveEnvironments::State::kBusy;
  const bool found = live_.with(sandbox_id, [&](LiveEnvironments::Entry& entry) {
    state = entry.state;
    spdlog::info("operator kills {} environment {} of {}:{}", LiveEnvironments::toString(state),
                 sandbox_id, entry.environment->functionName(), entry.environment->version());
    killed = entry.environment->sandbox().kill(SIGKILL);
  });
  if (!found) return Error("no live sandbox " + sandbox_id, ENOENT);
  WICK_TRY(killed, "retire sandbox " + sandbox_id);
  return state;
}

}  // namespace wick::invoke

namespace wick::invoke {

boost::asio::awaitable<std::variant<Admission::Ticket, api::AwsError>> Invoker::admit(
    const registry::FunctionRecord& record, const EnvironmentPlan& plan) {
  const auto memory_mb = static_cast<uint64_t>(record.config.memory_mb);
  const double vcpus = static_cast<double>(memory_mb) /
                       static_cast<double>(std::max<uint64_t>(plan.resources.mb_per_vcpu, 1));
  for (;;) {
    auto admitted = admission_.tryAdmit(memory_mb, vcpus);
    if (auto* ticket = std::get_if<Admission::Ticket>(&admitted)) co_return std::move(*ticket);
    const auto& refusal = std::get<Admission::Refusal>(admitted);
    // Idle environments give their share back first, least recently used first.
    std::unique_ptr<Environment> idle = pool_.takeLeastRecentlyUsed();
    if (!idle) {
      spdlog::warn("admission refuses a cold start of {}:{}: {} ({})", record.name, record.version,
                   refusal.message, refusal.reason);
      admission_.countRefusal(refusal.reason);
      if (metrics_) metrics_->throttled(record.name, record.version);
      co_return api::tooManyRequests(refusal.reason);
    }
    spdlog::info("admission reclaims idle environment {} of {}:{} for a cold start of {}:{} ({})",
                 idle->sandbox().id(), idle->functionName(), idle->version(), record.name,
                 record.version, refusal.message);
    admission_.countReclaimed();
    std::vector<std::unique_ptr<Environment>> reclaimed;
    reclaimed.push_back(std::move(idle));
    co_await destroyOnWorkers(std::move(reclaimed));
  }
}

bool Invoker::isResourceShortage(const Error& error) {
  switch (error.errNo()) {
    case EAGAIN:  // clone at pids.max or RLIMIT_NPROC, no host id slot, cgroup writes under
                  // pressure
    case ENOMEM:
    case ENOSPC:  // tmpfs, overlay upper dirs, cgroup or namespace counts (max_user_namespaces)
    case EMFILE:
    case ENFILE:
    case EUSERS:
      return true;
    default:
      return false;
  }
}

std::unique_ptr<Environment> Invoker::reclaimForShortage(const registry::FunctionRecord& record,
                                                         const Error& error) {
  std::unique_ptr<Environment> idle = pool_.takeLeastRecentlyUsed();
  if (idle) {
    spdlog::info("reclaiming idle environment {} of {}:{} for {}: {}", idle->sandbox().id(),
                 idle->functionName(), idle->version(), record.name, error.message());
    admission_.countReclaimed();
  }
  return idle;
}

api::AwsError Invoker::creationFailure(const registry::FunctionRecord& record, const Error& error) {
  if (isResourceShortage(error)) {
    spdlog::warn("invoke {}: no execution environment for lack of a host resource: {}", record.name,
                 error.message());
    admission_.countRefusal("SandboxResourcesExhausted");
    return api::tooManyRequests("SandboxResourcesExhausted");
  }
  return api::internalError("invoke " + record.name +
                            ": start an execution environment: " + error.message());
}

}  // namespace wick::invoke
