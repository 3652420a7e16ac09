#include "host/invoke/environment_network.h"

namespace wick::invoke {

Result<std::optional<network::NetworkGrant>> grantNetwork(network::Networks* networks,
                                                          const nlohmann::json& settings) {
  if (networks == nullptr) return std::optional<network::NetworkGrant>();
  auto name = networks->select(settings);
  if (!name) return std::move(name).error();
  if (name->empty()) return std::optional<network::NetworkGrant>();
  auto grant = networks->take(*name);
  if (!grant) return std::move(grant).error().context("network for the environment");
  return std::optional<network::NetworkGrant>(std::move(*grant));
}

}  // namespace wick::invoke
