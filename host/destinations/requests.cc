#include "host/destinations/requests.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "host/invoke/payload_json.h"

namespace wick::destinations {

using nlohmann::json;

namespace {

std::string dumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

OutgoingRequest post(const Endpoint& endpoint, std::string content_type, std::string body) {
  OutgoingRequest request;
  request.endpoint = endpoint;
  request.path = endpoint.base_path + "/";
  const bool default_port = endpoint.port == (endpoint.tls ? "443" : "80");
  const std::string host = default_port ? endpoint.host : endpoint.host + ":" + endpoint.port;
  request.headers = {{"Host", host}, {"Content-Type", std::move(content_type)}};
  request.body = std::move(body);
  return request;
}

}  // namespace

std::optional<ServiceArn> parseServiceArn(std::string_view arn) {
  ServiceArn parsed{std::string(arn), "", "", "", ""};
  std::string* parts[] = {nullptr, nullptr, &parsed.service, &parsed.region, &parsed.account};
  size_t start = 0;
  for (std::string* part : parts) {
    const size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return std::nullopt;
    if (part != nullptr)
      *part = std::string(arn.substr(start, colon - start));
    else if (start == 0 && arn.substr(0, colon) != "arn")
      return std::nullopt;
    start = colon + 1;
  }
  parsed.resource = std::string(arn.substr(start));
  if (parsed.service.empty() || parsed.resource.empty()) return std::nullopt;
  return parsed;
}

Result<Endpoint> parseEndpoint(std::string_view url) {
  Endpoint endpoint;
  std::string_view scheme = "http://";
  if (url.starts_with("https://")) {
    scheme = "https://";
    endpoint.tls = true;
  } else if (!url.starts_with(scheme)) {
    return Error("destination endpoint " + std::string(url) + ": expected http:// or https://",
                 EINVAL);
  }
  while (url.ends_with('/'))
    url.remove_suffix(1);
  endpoint.url = std::string(url);
  std::string_view rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    endpoint.base_path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  const bool has_port = colon != std::string_view::npos && rest.find(']', colon) == rest.npos;
  endpoint.host = std::string(has_port ? rest.substr(0, colon) : rest);
  endpoint.port = has_port ? std::string(rest.substr(colon + 1)) : endpoint.tls ? "443" : "80";
  if (endpoint.host.empty() || endpoint.port.empty() ||
      endpoint.port.find_first_not_of("0123456789") != std::string::npos)
    return Error(
        "destination endpoint " + std::string(url) + ": expected http[s]://HOST[:PORT][/PREFIX]",
        EINVAL);
  return endpoint;
}

std::string formEncode(std::string_view text) {
  return percentEncode(text);
}

OutgoingRequest sqsSendMessage(const Endpoint& endpoint, const ServiceArn& queue,
                               const std::string& body,
                               const std::vector<MessageAttribute>& attributes) {
  json message = {{"QueueUrl", endpoint.url + "/" + queue.account + "/" + queue.resource},
                  {"MessageBody", body}};
  for (const MessageAttribute& attribute : attributes)
    message["MessageAttributes"][attribute.name] = {{"DataType", attribute.data_type},
                                                    {"StringValue", attribute.value}};
  OutgoingRequest request = post(endpoint, "application/x-amz-json-1.0", dumpJson(message));
  request.headers.emplace_back("X-Amz-Target", "AmazonSQS.SendMessage");
  return request;
}

OutgoingRequest snsPublish(const Endpoint& endpoint, const ServiceArn& topic,
                           const std::string& message,
                           const std::vector<MessageAttribute>& attributes) {
  std::string form =
      "Action=Publish&TopicArn=" + formEncode(topic.arn) + "&Message=" + formEncode(message);
  for (size_t i = 0; i < attributes.size(); ++i) {
    const std::string entry = "&MessageAttributes.entry." + std::to_string(i + 1);
    form += entry + ".Name=" + formEncode(attributes[i].name);
    form += entry + ".Value.DataType=" + formEncode(attributes[i].data_type);
    form += entry + ".Value.StringValue=" + formEncode(attributes[i].value);
  }
  form += "&Version=2010-03-31";
  return post(endpoint, "application/x-www-form-urlencoded; charset=utf-8", form);
}

OutgoingRequest eventBridgePutEvents(const Endpoint& endpoint, const ServiceArn& bus,
                                     const std::string& function_arn, bool success,
                                     const std::string& record) {
  json entry = {{"Source", "lambda"},
                {"DetailType", std::string("Lambda Function Invocation Result - ") +
                                   (success ? "Success" : "Failure")},
                {"Resources", {bus.arn, function_arn}},
                // Detail is a string holding the record's JSON, as PutEvents takes it.
                {"Detail", dumpJson(invoke::embeddableJson(record))},
                {"EventBusName", bus.arn}};
  OutgoingRequest request =
      post(endpoint, "application/x-amz-json-1.1", dumpJson({{"Entries", {entry}}}));
  request.headers.emplace_back("X-Amz-Target", "AWSEvents.PutEvents");
  return request;
}

std::string utf8Prefix(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  // Back to the start of the character the cut falls in (continuation bytes are 10xxxxxx).
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  return text.substr(0, end);
}

std::vector<MessageAttribute> deadLetterAttributes(const std::string& request_id, int error_code,
                                                   const std::string& error_message) {
  return {{"RequestID", "String", request_id},
          {"ErrorCode", "Number", std::to_string(error_code)},
          {"ErrorMessage", "String", utf8Prefix(error_message, 1024)}};
}

void signRequest(OutgoingRequest& request, const auth::SigningKeys& keys, std::string_view region,
                 std::string_view service, std::string_view amz_date) {
  auth::SignedRequest signed_request{"POST", request.path, "", request.headers,
                                     auth::sha256Hex(request.body)};
  auth::sign(signed_request, keys, region, service, amz_date);
  request.headers = std::move(signed_request.headers);
}

}  // namespace wick::destinations
