// The control plane over what is kept: LayerService and FunctionService,
// their ARN scope, presigned code locations and the VpcConfig check.
#pragma once

#include <memory>

#include "host/daemon/api_access.h"
#include "host/daemon/config.h"
#include "host/daemon/storage.h"
#include "host/functions/function_service.h"
#include "host/functions/layer_service.h"
#include "host/network/networks.h"

namespace wick::daemon {

struct ControlPlane {
  std::unique_ptr<functions::LayerService> layers;
  std::unique_ptr<functions::FunctionService> functions;
};

ControlPlane makeControlPlane(const DaemonConfig& config, Storage& storage, ApiAccess& access,
                              network::Networks& networks);

}  // namespace wick::daemon
