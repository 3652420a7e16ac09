#include "host/invoke/invoke_steps.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "host/invoke/payload_json.h"
#include "host/invoke/payload_limit.h"

namespace wick::invoke {

namespace {
constexpr size_t kMaxClientContext = 3'583;
}  // namespace

std::variant<InvokeEvent, api::AwsError> parseInvokeEvent(const http::Request& request) {
  if (request.body.size() > kMaxInvokePayload)
    return api::requestTooLarge(
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
  InvokeEvent event;
  event.payload = request.body.empty() ? std::string("{}") : request.body;
  if (!isJson(event.payload))
    return api::invalidRequestContent(
        "Could not parse request body into json: Could not parse payload into json");
  if (std::string encoded = request.header("X-Amz-Client-Context"); !encoded.empty()) {
    auto decoded = base64Decode(encoded);
    if (encoded.size() > kMaxClientContext || !decoded || !nlohmann::json::accept(*decoded))
      return api::invalidParameter("Client context must be a valid Base64-encoded JSON object.");
    event.client_context = std::move(*decoded);
  }
  event.tail = request.header("X-Amz-Log-Type") == "Tail";
  return event;
}

std::shared_ptr<const registry::FunctionRecord> pickVersion(
    const functions::FunctionService::Cached& resolved, double draw) {
  if (resolved.additional && draw < resolved.additional_weight) return resolved.additional;
  return resolved.record;
}

}  // namespace wick::invoke
