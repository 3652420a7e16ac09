#include "host/daemon/listeners.h"

#include <spdlog/spdlog.h>

#include "host/api/api_gate.h"
#include "host/daemon/network_config.h"
#include "host/invoke/payload_limit.h"

namespace wick::daemon {

Result<Listeners> listen(const ListenInputs& in) {
  const DaemonConfig& config = in.config;
  Listeners listeners;
  http::ServerOptions options;
  // Refused by the head alone: unsigned, foreign Host, a 6 MB+ invoke upload.
  options.refuse_head = in.access.refuseHead(invoke::refuseOversizedInvoke);
  listeners.api = std::make_unique<http::Server>(
      in.io, in.access.guardListener(in.parts.dispatch, in.workers), options);
  WICK_TRY(listeners.api->listen(config.listen()), "the Lambda API listener");
  WICK_TRY(in.parts.function_urls->listen(), "the function URL listener");
  // wick's admin routes (and the rest) for the wick CLI: root's socket, never TCP.
  listeners.admin = std::make_unique<http::Server>(in.io, api::guardAdminSocket(in.parts.dispatch));
  WICK_TRY(listeners.admin->listenUnix(in.access.adminSocketPath(), 0600), "the admin socket");
  api::LambdaApi& lambda = *in.parts.lambda;
  auto gateways = listenOnGateways(
      in.io,
      [&](const std::string& gateway) {
        return in.access.guardGateway(
            gateway, [&lambda](http::Request request) { return lambda.handle(std::move(request)); },
            in.workers);
      },
      in.networks, listeners.api->port());
  if (!gateways) return std::move(gateways).error();
  listeners.gateways = std::move(*gateways);
  if (!config.metrics_listen().empty()) {
    auto serving = metrics::MetricsServer::start(config.metrics_listen(), in.metrics);
    if (!serving) return std::move(serving).error();
    listeners.metrics = std::move(*serving);
    spdlog::info("metrics on http://{}/metrics", config.metrics_listen());
  }
  // Code.Location of GetFunction points back at us.
  listeners.host = config.listen().substr(0, config.listen().rfind(':'));
  const std::string base_url =
      "http://" + listeners.host + ":" + std::to_string(listeners.api->port());
  in.plane.functions->mutableSettings().code_url_base = base_url + "/wick/code";
  in.plane.layers->settings().content_url_base = base_url + "/wick/layer-content";
  return listeners;
}

}  // namespace wick::daemon
