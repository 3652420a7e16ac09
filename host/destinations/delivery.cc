#include "host/destinations/delivery.h"

#include "host/destinations/http_client.h"

namespace wick::destinations {

namespace {

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<Delivery>> Delivery::make(DeliverySettings settings) {
  bool https = false;
  for (const auto& [service, endpoint] : settings.endpoints)
    https = https || endpoint.tls;
  auto delivery = std::make_unique<Delivery>(std::move(settings));
  if (https) {
    auto context = clientTlsContext(delivery->settings_.ca_file);
    if (!context) return std::move(context).error().context("https destination endpoints");
    delivery->tls_ = std::move(*context);
  }
  return delivery;
}

Result<OutgoingRequest> Delivery::request(const Message& message, ServiceArn& arn) const {
  auto parsed = parseServiceArn(message.target_arn);
  if (!parsed) return Error("destination " + message.target_arn + " is not an ARN", EINVAL);
  arn = *parsed;
  auto found = settings_.endpoints.find(arn.service);
  if (found == settings_.endpoints.end())
    return Error("no destination endpoint configured for service " + arn.service, ENOENT);
  const Endpoint& endpoint = found->second;
  if (arn.service == "sqs") return sqsSendMessage(endpoint, arn, message.body, message.attributes);
  if (arn.service == "sns") return snsPublish(endpoint, arn, message.body, message.attributes);
  if (message.dead_letter)
    return Error(
        "dead-letter target " + message.target_arn + " is neither an SQS queue nor an SNS topic",
        EINVAL);
  if (arn.service == "events")
    return eventBridgePutEvents(endpoint, arn, message.function_arn, message.success, message.body);
  return Error("destination " + message.target_arn + ": wick does not deliver to " + arn.service,
               ENOTSUP);
}

Status Delivery::check(const Message& message) const {
  ServiceArn arn;
  auto built = request(message, arn);
  if (!built) return std::move(built).error();
  return {};
}

boost::asio::awaitable<Status> Delivery::sendOnce(const Message& message) const {
  ServiceArn arn;
  auto built = request(message, arn);
  if (!built) co_return std::move(built).error();
  OutgoingRequest& outgoing = *built;
  const std::string region = arn.region.empty() ? settings_.region : arn.region;
  signRequest(outgoing, settings_.keys, region, arn.service, auth::amzDate(nowSeconds()));
  auto answer = co_await postRequest(outgoing, settings_.timeout, tls_.get());
  if (!answer) co_return std::move(answer).error();
  if (answer->status < 200 || answer->status >= 300)
    co_return Error(outgoing.endpoint.url + " answered " + std::to_string(answer->status) + ": " +
                        answer->body.substr(0, 300),
                    EIO);
  co_return Status{};
}

}  // namespace wick::destinations
