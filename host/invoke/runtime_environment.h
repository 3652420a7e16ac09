// What an execution environment is made of, from a function's configuration:
// the runtime's environment variables (../shared/reference/lambda-contract.md
// 3.1) and the sandbox (3.2, 3.4).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/invoke/resource_policy.h"
#include "host/registry/function_config.h"
#include "sandbox/spec.h"

namespace wick::invoke {

struct EnvironmentIdentity {
  std::string function_name;
  std::string version = "$LATEST";
  std::string region;
  std::string log_stream_name;
  std::string execution_env;  // AWS_EXECUTION_ENV; empty for custom runtimes
};

using EnvPairs = std::vector<std::pair<std::string, std::string>>;

// The runtime's environment: Lambda's defaults, then `base` (a managed
// runtime's defaults, or an image's ENV), then the function's variables, the
// reserved ones last (they cannot be overridden).
std::vector<std::string> runtimeEnvironment(const registry::FunctionConfig& config,
                                            const EnvironmentIdentity& identity,
                                            const EnvPairs& base = {});

struct SandboxInputs {
  // The root, bottom first: a base root or an image's layers, then the
  // function's /opt layers (each a tree whose content sits under opt/).
  std::vector<std::string> root_layers;
  std::string code_tree;  // bound read-only at /var/task (none for images)
  std::vector<sandbox::BindMount> binds;
  ResourcePolicy resources;
  int agent_fd = -1;      // sealed wick-agent
  int agent_socket = -1;  // the agent's end of the host channel
  int agent_socket_number = 3;
  int log_fd = -1;  // the agent's own stderr
};

// The sandbox of one execution environment.
sandbox::SandboxSpec sandboxSpec(const registry::FunctionConfig& config,
                                 const SandboxInputs& inputs, const std::string& id);

}  // namespace wick::invoke
