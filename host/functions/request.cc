#include "host/functions/request.h"

#include "common/encoding.h"
#include "host/invoke/payload_json.h"

namespace wick::functions {

std::variant<nlohmann::json, api::AwsError> parseJsonBody(const std::string& body) {
  if (body.empty()) return nlohmann::json::object();
  // Deeper than any request of the API: parsed, a member of it echoed in an
  // error (dump()) overflowed the stack (payload_json.h).
  if (invoke::jsonNesting(body) > invoke::kMaxDomNesting)
    return api::invalidRequestContent("Could not parse request body into json: nested too deeply");
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return api::invalidRequestContent("Could not parse request body into json");
  return parsed;
}

std::variant<int64_t, api::AwsError> parseMaxItems(const std::string& text, int64_t max) {
  if (text.empty()) return int64_t{50};
  const bool digits = text.size() <= 9 && text.find_first_not_of("0123456789") == std::string::npos;
  const int64_t number = digits ? std::stoll(text) : 0;
  if (number < 1 || number > max)
    return api::validationError(text, "maxItems",
                                "Member must have value between 1 and " + std::to_string(max));
  return number;
}

std::optional<api::AwsError> checkRevisionId(const nlohmann::json& request,
                                             const std::string& current) {
  if (!request.contains("RevisionId") || request["RevisionId"] == current) return std::nullopt;
  return api::preconditionFailed(
      "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/"
      "GetAlias API to retrieve the latest Revision Id");
}

api::AwsError internalError(const Error& error) {
  return api::internalError(error.message());
}

std::variant<StoredCode, api::AwsError> storeZipUpload(const CodeStore& store,
                                                       const std::string& base64,
                                                       const std::string& field,
                                                       uint64_t max_zipped_bytes,
                                                       uint64_t max_unzipped_bytes) {
  auto zip = base64Decode(base64);
  if (!zip) return api::invalidParameter(field + " is not valid base64");
  if (zip->size() > max_zipped_bytes)
    return api::requestTooLarge("Zipped size must be smaller than " +
                                std::to_string(max_zipped_bytes) + " bytes");
  images::ExtractOptions options;
  options.max_unpacked_bytes = max_unzipped_bytes;
  auto stored = store.put(*zip, options);
  if (!stored) {
    const Error& error = stored.error();
    if (error.errNo() == EFBIG)
      return api::invalidParameter("Unzipped size must be smaller than " +
                                   std::to_string(max_unzipped_bytes) + " bytes");
    if (error.errNo() == EPERM || error.errNo() == EINVAL || error.errNo() == E2BIG)
      return api::invalidParameter("Could not unzip uploaded file. " + error.message());
    return internalError(error);
  }
  return std::move(*stored);
}

}  // namespace wick::functions
