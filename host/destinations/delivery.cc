#include "host/destinations/delivery.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "host/destinations/http_client.h"

namespace wick::destinations {

namespace {

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<ServiceArn> parsed(const std::string& arn) {
  auto service_arn = parseServiceArn(arn);
  if (!service_arn) return Error("destination " + arn + " is not an ARN", EINVAL);
  return *service_arn;
}

Status sendOnce(OutgoingRequest request, const DeliverySettings& settings, const ServiceArn& arn) {
  const std::string region = arn.region.empty() ? settings.region : arn.region;
  signRequest(request, settings.keys, region, arn.service, auth::amzDate(nowSeconds()));
  auto answer = postRequest(request, settings.timeout);
  if (!answer) return std::move(answer).error();
  if (answer->status < 200 || answer->status >= 300)
    return Error(request.endpoint.url + " answered " + std::to_string(answer->status) + ": " +
                     answer->body.substr(0, 300),
                 EIO);
  return {};
}

}  // namespace

Result<Endpoint> Delivery::endpointFor(const ServiceArn& arn) const {
  auto found = settings_.endpoints.find(arn.service);
  if (found == settings_.endpoints.end())
    return Error("no destination endpoint configured for service " + arn.service, ENOENT);
  return found->second;
}

Status Delivery::send(OutgoingRequest request, const ServiceArn& arn) const {
  Status sent = sendOnce(request, settings_, arn);
  for (size_t retry = 0; !sent && retry < settings_.retry_delays.size(); ++retry) {
    spdlog::info("delivery to {} failed, retrying in {} ms: {}", arn.arn,
                 settings_.retry_delays[retry].count(), sent.error().message());
    std::this_thread::sleep_for(settings_.retry_delays[retry]);
    sent = sendOnce(request, settings_, arn);
  }
  if (!sent)
    return Error("delivery to " + arn.arn + " failed after " +
                     std::to_string(settings_.retry_delays.size() + 1) +
                     " tries: " + sent.error().message(),
                 sent.error().errNo());
  return {};
}

Status Delivery::deliverRecord(const std::string& destination_arn, const std::string& function_arn,
                               bool success, const std::string& record) const {
  auto arn_parsed = parsed(destination_arn);
  if (!arn_parsed) return std::move(arn_parsed).error();
  const ServiceArn& arn = *arn_parsed;
  auto endpoint_found = endpointFor(arn);
  if (!endpoint_found) return std::move(endpoint_found).error();
  const Endpoint& endpoint = *endpoint_found;
  if (arn.service == "sqs") return send(sqsSendMessage(endpoint, arn, record), arn);
  if (arn.service == "sns") return send(snsPublish(endpoint, arn, record), arn);
  if (arn.service == "events")
    return send(eventBridgePutEvents(endpoint, arn, function_arn, success, record), arn);
  return Error("destination " + destination_arn + ": wick does not deliver to " + arn.service,
               ENOTSUP);
}

Status Delivery::deliverDeadLetter(const std::string& target_arn, const DeadLetter& letter) const {
  auto arn_parsed = parsed(target_arn);
  if (!arn_parsed) return std::move(arn_parsed).error();
  const ServiceArn& arn = *arn_parsed;
  auto endpoint_found = endpointFor(arn);
  if (!endpoint_found) return std::move(endpoint_found).error();
  const Endpoint& endpoint = *endpoint_found;
  const auto attributes =
      deadLetterAttributes(letter.request_id, letter.error_code, letter.error_message);
  if (arn.service == "sqs")
    return send(sqsSendMessage(endpoint, arn, letter.payload, attributes), arn);
  if (arn.service == "sns") return send(snsPublish(endpoint, arn, letter.payload, attributes), arn);
  return Error("dead-letter target " + target_arn + " is neither an SQS queue nor an SNS topic",
               EINVAL);
}

}  // namespace wick::destinations
