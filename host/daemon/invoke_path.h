// The invoke path as wickd builds it: the sandbox launcher (a crashed run's
// leftovers reclaimed), the environment planner under the operator's
// tunings, the async queue, and the invoker (none when wick-agent is not
// available: synchronous invoke is then disabled, the rest still serves).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "common/error.h"
#include "host/async/async_invocations.h"
#include "host/async/event_invoke_config.h"
#include "host/async/event_store.h"
#include "host/daemon/config.h"
#include "host/daemon/storage.h"
#include "host/destinations/delivery.h"
#include "host/functions/function_service.h"
#include "host/invoke/agent_binary.h"
#include "host/invoke/environment_planner.h"
#include "host/invoke/invoker.h"
#include "host/invoke/role_credentials.h"
#include "host/metrics/metrics.h"
#include "host/network/networks.h"
#include "host/operator/tuning_store.h"
#include "sandbox/sandbox.h"

namespace wick::daemon {

// The cgroup layout discovered, and what a crashed earlier run left (slices
// and their processes) reclaimed before anything starts.
Result<sandbox::Launcher> openLauncher(const DaemonConfig& config);

struct InvokePath {
  // The operator's per-function tuning (wick tune) over the config's defaults.
  std::unique_ptr<ops::TuningStore> tunings;
  std::unique_ptr<invoke::EnvironmentPlanner> planner;
  // The async queue: what a crashed run had in flight is due again.
  std::unique_ptr<async::EventStore> event_store;
  std::unique_ptr<async::EventInvokeConfigs> event_invoke_configs;
  std::unique_ptr<destinations::Delivery> delivery;
  std::unique_ptr<async::AsyncInvocations> async_invocations;  // null without an invoker
  std::unique_ptr<metrics::Metrics> metrics;   // outlives the invoker and the async queue
  std::unique_ptr<invoke::AgentBinary> agent;  // the invoker's agent_fd
  std::unique_ptr<invoke::Invoker> invoker;    // null when wick-agent is unavailable
};

struct InvokeParts {
  const DaemonConfig& config;
  Storage& storage;
  functions::FunctionService& functions;
  sandbox::Launcher& launcher;
  network::Networks& networks;
  invoke::RoleCredentials& roles;
  boost::asio::io_context& io;
  boost::asio::thread_pool& workers;
};
Result<InvokePath> buildInvokePath(const InvokeParts& parts);

}  // namespace wick::daemon
