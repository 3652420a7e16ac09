#include "host/api/aws_error.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace wick::api {

namespace {
// The body key's casing differs by exception in the service model; botocore
// reads either, but stay faithful.
bool usesCapitalMessage(const std::string& type) {
  return type == "ResourceNotFoundException" || type == "ServiceException" ||
         type == "ServiceQuotaExceededException" || type == "InvalidZipFileException" ||
         type == "InvalidRuntimeException";
}
}  // namespace

AwsError invalidParameter(std::string message) {
  return {400, "InvalidParameterValueException", std::move(message)};
}
AwsError validationError(const std::string& value, const std::string& field,
                         const std::string& constraint) {
  return {400, "ValidationException",
          "1 validation error detected: Value '" + value + "' at '" + field +
              "' failed to satisfy constraint: " + constraint};
}
AwsError resourceNotFound(std::string message) {
  return {404, "ResourceNotFoundException", std::move(message)};
}
AwsError resourceConflict(std::string message) {
  return {409, "ResourceConflictException", std::move(message)};
}
AwsError preconditionFailed(std::string message) {
  return {412, "PreconditionFailedException", std::move(message)};
}
AwsError tooManyRequests(std::string reason) {
  return {429,
          "TooManyRequestsException",
          "Rate Exceeded.",
          {{"Reason", std::move(reason)}},
          {{"Retry-After", "1"}}};
}
AwsError requestTooLarge(std::string message) {
  return {413, "RequestTooLargeException", std::move(message)};
}
AwsError invalidRequestContent(std::string message) {
  return {400, "InvalidRequestContentException", std::move(message)};
}
AwsError serviceError(std::string message) {
  return {500, "ServiceException", std::move(message)};
}

AwsError internalError(std::string cause) {
  AwsError error = serviceError("An internal error occurred in wickd; its log has the cause");
  error.cause = std::move(cause);
  return error;
}

void logFailure(const AwsError& error, std::string_view method, std::string_view path) {
  if (error.status >= 500)
    spdlog::error("{} {} -> {} {}: {}", method, path, error.status, error.type,
                  error.cause.empty() ? error.message : error.cause);
  else
    spdlog::debug("{} {} -> {} {}", method, path, error.status, error.type);
}

http::Response toResponse(const AwsError& error, const std::string& request_id) {
  nlohmann::json body = {{"Type", error.status >= 500 ? "Service" : "User"},
                         {usesCapitalMessage(error.type) ? "Message" : "message", error.message}};
  for (const auto& [key, value] : error.extra_fields)
    body[key] = value;
  http::Response response{static_cast<http::beast_http::status>(error.status), 11};
  response.set("x-amzn-ErrorType", error.type);
  response.set("x-amzn-RequestId", request_id);
  response.set(http::beast_http::field::content_type, "application/json");
  for (const auto& [key, value] : error.extra_headers)
    response.set(key, value);
  // A message may quote what the client sent (a name, a header): bytes that
  // are not UTF-8 there become U+FFFD, rather than an exception that leaves
  // the request without an answer.
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

AwsError invalidRuntime(std::string message) {
  return {502, "InvalidRuntimeException", std::move(message)};
}

}  // namespace wick::api
