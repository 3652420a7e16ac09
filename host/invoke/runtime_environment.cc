#include "host/invoke/runtime_environment.h"

namespace wick::invoke {

std::vector<std::string> runtimeEnvironment(const registry::FunctionConfig& config,
                                            const EnvironmentIdentity& identity,
                                            const EnvPairs& base) {
  std::map<std::string, std::string> env = {
      {"LANG", "en_US.UTF-8"},
      {"PATH", "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"},
      {"LD_LIBRARY_PATH",
       "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/"
       "lib"},
      {"TZ", ":UTC"},
      {"AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"},
      {"AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000"},
      {"_AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129"},
      {"_AWS_XRAY_DAEMON_PORT", "2000"},
  };
  for (const auto& [key, value] : base)
    env[key] = value;
  for (const auto& [key, value] : config.environment)
    env[key] = value;
  std::map<std::string, std::string> reserved = {
      {"_HANDLER", config.handler.value_or("")},
      {"AWS_REGION", identity.region},
      {"AWS_DEFAULT_REGION", identity.region},
      {"AWS_LAMBDA_FUNCTION_NAME", identity.function_name},
      {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(config.memory_mb)},
      {"AWS_LAMBDA_FUNCTION_VERSION", identity.version},
      {"AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"},
      {"AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + identity.function_name},
      {"AWS_LAMBDA_LOG_STREAM_NAME", identity.log_stream_name},
      // No IAM here: credentials of the right shape, so SDKs start.
      {"AWS_ACCESS_KEY_ID", "AKIAWICKLOCAL0000000"},
      {"AWS_SECRET_ACCESS_KEY", "wick-local-secret-access-key-00000000000"},
      {"AWS_SESSION_TOKEN", "wick-local-session-token"},
      {"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"},
      {"LAMBDA_TASK_ROOT", "/var/task"},
      {"LAMBDA_RUNTIME_DIR", "/var/runtime"},
  };
  if (!identity.execution_env.empty()) reserved["AWS_EXECUTION_ENV"] = identity.execution_env;
  // Images have no handler unless one was given.
  if (reserved["_HANDLER"].empty()) reserved.erase("_HANDLER");
  for (const auto& [key, value] : reserved)
    env[key] = value;
  std::vector<std::string> entries;
  for (const auto& [key, value] : env)
    entries.push_back(key + "=" + value);
  return entries;
}

sandbox::SandboxSpec sandboxSpec(const registry::FunctionConfig& config,
                                 const SandboxInputs& inputs, const std::string& id) {
  sandbox::SandboxSpec spec;
  spec.id = id;
  spec.layers = inputs.root_layers;
  if (!inputs.code_tree.empty()) spec.binds.push_back({inputs.code_tree, "/var/task", false});
  for (const auto& bind : inputs.binds)
    spec.binds.push_back(bind);
  spec.tmp_size_bytes = static_cast<uint64_t>(config.ephemeral_storage_mb) << 20;
  spec.hostname = "169.254.0.1";  // what Lambda's sandboxes call themselves
  spec.argv = {"wick-agent", "--host-fd", std::to_string(inputs.agent_socket_number)};
  spec.env = {};
  spec.cwd = "/";
  spec.exec_fd = inputs.agent_fd;
  spec.stdin_fd = -1;
  spec.stdout_fd = inputs.log_fd;
  spec.stderr_fd = inputs.log_fd;
  spec.passed_fds = {{inputs.agent_socket, inputs.agent_socket_number}};
  spec.resources = sandboxResources(static_cast<uint64_t>(config.memory_mb), inputs.resources);
  return spec;
}

}  // namespace wick::invoke
