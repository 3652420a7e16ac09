#include "host/daemon/destination_config.h"

namespace wick::daemon {

Result<std::unique_ptr<destinations::Delivery>> destinationDelivery(const DaemonConfig& config) {
  if (config.destination_endpoints_size() == 0) return std::unique_ptr<destinations::Delivery>();
  destinations::DeliverySettings settings;
  for (const DestinationEndpoint& configured : config.destination_endpoints()) {
    const std::string& service = configured.service();
    if (service != "sqs" && service != "sns" && service != "events")
      return Error("destination_endpoints: service \"" + service +
                       "\" is not one wick delivers to (sqs, sns, events)",
                   EINVAL);
    auto endpoint = destinations::parseEndpoint(configured.url());
    if (!endpoint) return std::move(endpoint).error().context("destination_endpoints");
    settings.endpoints[service] = *endpoint;
  }
  settings.keys = {config.destination_access_key_id(), config.destination_secret_access_key(),
                   config.destination_session_token()};
  settings.region =
      config.destination_region().empty() ? config.region() : config.destination_region();
  settings.timeout =
      std::chrono::milliseconds(std::max<uint32_t>(config.destination_timeout_ms(), 1));
  if (config.destination_retry_delays_ms_size() > 0) {
    settings.retry_delays.clear();
    for (uint32_t ms : config.destination_retry_delays_ms())
      settings.retry_delays.emplace_back(ms);
  }
  settings.ca_file = config.destination_ca_file();
  return destinations::Delivery::make(std::move(settings));
}

}  // namespace wick::daemon
