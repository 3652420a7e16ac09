// The network pools' figures as Prometheus families, read at scrape time:
// namespaces ready, attached and failed, takes and the takes that waited for
// an empty pool (and for how long): a cold start that waits for a network
// shows here, as well as in the log.
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <vector>

#include "host/network/network_pool.h"

namespace wick::metrics {

std::vector<prometheus::MetricFamily> networkPoolFamilies(
    const std::map<std::string, network::NetworkPoolStats>& pools);

}  // namespace wick::metrics
