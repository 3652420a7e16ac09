#include "host/daemon/control_plane.h"

namespace wick::daemon {

ControlPlane makeControlPlane(const DaemonConfig& config, Storage& storage, ApiAccess& access,
                              network::Networks& networks) {
  functions::ServiceSettings settings;
  settings.scope = {config.region(), config.account_id()};
  settings.account_concurrency = config.account_concurrency();
  settings.presign_location = access.presigner();
  if (networks.configured())
    settings.vpc_check = [&networks](const nlohmann::json& function) -> std::optional<std::string> {
      auto selected = networks.select(function);
      if (selected) return std::nullopt;
      return selected.error().message();
    };
  functions::LayerSettings layer_settings;
  layer_settings.scope = settings.scope;
  layer_settings.presign_location = access.presigner();
  ControlPlane plane;
  plane.layers = std::make_unique<functions::LayerService>(*storage.registry,
                                                           *storage.layer_content, layer_settings);
  plane.functions = std::make_unique<functions::FunctionService>(*storage.registry, *storage.code,
                                                                 *plane.layers, storage.bases.get(),
                                                                 storage.images.get(), settings);
  return plane;
}

}  // namespace wick::daemon
