// The daemon config's destination_* fields as the async queue's delivery
// settings (host/destinations/delivery.h).
#pragma once

#include <memory>

#include "common/error.h"
#include "host/destinations/delivery.h"
#include "wickd_config.pb.h"  // generated in the build tree

namespace wick::daemon {

// nullptr when no endpoint is configured (every record for another service
// is then kept as a failed event). A bad endpoint URL or service is an error.
Result<std::unique_ptr<destinations::Delivery>> destinationDelivery(const DaemonConfig& config);

}  // namespace wick::daemon
