#include "host/invoke/environment_extras.h"

namespace wick::invoke {

Result<std::optional<network::NetworkGrant>> grantNetwork(network::Networks* networks,
                                                          const registry::FunctionConfig& config) {
  if (networks == nullptr) return std::optional<network::NetworkGrant>();
  auto name = networks->select(config.vpc_config.value_or(nlohmann::json()));
  if (!name) return std::move(name).error();
  if (name->empty()) return std::optional<network::NetworkGrant>();
  auto grant = networks->take(*name);
  if (!grant) return std::move(grant).error().context("network for the environment");
  return std::optional<network::NetworkGrant>(std::move(*grant));
}

Result<std::optional<EnvPairs>> roleEnvironment(RoleCredentials* roles,
                                                const registry::FunctionConfig& config) {
  if (roles == nullptr || roles->empty()) return std::optional<EnvPairs>();
  auto keys = roles->forRole(config.role.value_or(""));
  if (!keys) return std::move(keys).error();
  EnvPairs env;
  if (*keys) {
    env.emplace_back("AWS_ACCESS_KEY_ID", (*keys)->access_key_id);
    env.emplace_back("AWS_SECRET_ACCESS_KEY", (*keys)->secret_access_key);
    if (!(*keys)->session_token.empty())
      env.emplace_back("AWS_SESSION_TOKEN", (*keys)->session_token);
  }
  return std::optional<EnvPairs>(std::move(env));
}

}  // namespace wick::invoke
