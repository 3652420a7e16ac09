// wickd's listeners: the Lambda API on TCP (gated: SigV4, Host, Origin), the
// function URL listener, the admin Unix socket (root's, every route), the
// Lambda API on each network's gateway, and the metrics endpoint.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/daemon/api_access.h"
#include "host/daemon/api_parts.h"
#include "host/daemon/control_plane.h"
#include "host/http/server.h"
#include "host/metrics/metrics_server.h"
#include "host/network/networks.h"

namespace wick::daemon {

struct Listeners {
  std::unique_ptr<http::Server> api;
  std::unique_ptr<http::Server> admin;
  std::vector<std::unique_ptr<http::Server>> gateways;
  // Declared after the invoker: stops serving before what it scrapes goes.
  std::unique_ptr<metrics::MetricsServer> metrics;
  std::string host;  // the API's listen host, for the log and code URLs
};

struct ListenInputs {
  const DaemonConfig& config;
  ApiAccess& access;
  ApiParts& parts;
  ControlPlane& plane;
  network::Networks& networks;
  metrics::Metrics& metrics;
  boost::asio::io_context& io;
  boost::asio::thread_pool& workers;
};
// Binds and starts every listener; GetFunction's Code.Location and layer
// content URLs then point back at the API listener.
Result<Listeners> listen(const ListenInputs& in);

}  // namespace wick::daemon
