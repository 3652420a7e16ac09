#include "host/urls/cors.h"

#include <boost/algorithm/string/predicate.hpp>

namespace wick::urls {

using nlohmann::json;

namespace {

std::string listText(const std::vector<std::string>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + values[i];
  return text + "]";
}

// A list of strings at cors.<field>: at most `max_items`, each of
// `min_length`..`max_length` characters.
std::optional<api::AwsError> readList(const json& cors, const char* key, const char* field,
                                      size_t max_items, size_t min_length, size_t max_length,
                                      std::vector<std::string>& into) {
  if (!cors.contains(key) || cors[key].is_null()) return std::nullopt;
  const json& value = cors[key];
  if (!value.is_array())
    return api::AwsError{400, "InvalidRequestContentException",
                         std::string("Cors.") + key + " must be a list of strings"};
  for (const json& item : value) {
    if (!item.is_string())
      return api::AwsError{400, "InvalidRequestContentException",
                           std::string("Cors.") + key + " must be a list of strings"};
    into.push_back(item.get<std::string>());
  }
  const std::string path = std::string("cors.") + field;
  if (into.size() > max_items)
    return api::validationError(
        listText(into), path,
        "Member must have length less than or equal to " + std::to_string(max_items));
  for (const std::string& item : into) {
    if (item.size() > max_length)
      return api::validationError(listText(into), path,
                                  "Member must satisfy constraint: [Member must have length less "
                                  "than or equal to " +
                                      std::to_string(max_length) + "]");
    if (item.size() < min_length)
      return api::validationError(listText(into), path,
                                  "Member must satisfy constraint: [Member must have length "
                                  "greater than or equal to " +
                                      std::to_string(min_length) + "]");
  }
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& values) {
  std::string text;
  for (const std::string& value : values)
    text += (text.empty() ? "" : ",") + value;
  return text;
}

}  // namespace

std::variant<Cors, api::AwsError> parseCors(const json& value) {
  if (!value.is_object())
    return api::AwsError{400, "InvalidRequestContentException", "Cors must be an object"};
  Cors cors;
  if (value.contains("AllowCredentials") && !value["AllowCredentials"].is_null()) {
    if (!value["AllowCredentials"].is_boolean())
      return api::AwsError{400, "InvalidRequestContentException",
                           "Cors.AllowCredentials must be a boolean"};
    cors.allow_credentials = value["AllowCredentials"].get<bool>();
  }
  if (auto refused =
          readList(value, "AllowHeaders", "allowHeaders", 100, 0, 1024, cors.allow_headers))
    return *refused;
  if (auto refused = readList(value, "AllowMethods", "allowMethods", 6, 0, 6, cors.allow_methods))
    return *refused;
  if (auto refused =
          readList(value, "AllowOrigins", "allowOrigins", 100, 1, 253, cors.allow_origins))
    return *refused;
  if (auto refused =
          readList(value, "ExposeHeaders", "exposeHeaders", 100, 0, 1024, cors.expose_headers))
    return *refused;
  if (value.contains("MaxAge") && !value["MaxAge"].is_null()) {
    const json& max_age = value["MaxAge"];
    if (!max_age.is_number_integer())
      return api::AwsError{400, "InvalidRequestContentException", "Cors.MaxAge must be an integer"};
    cors.max_age = max_age.get<int64_t>();
    if (cors.max_age > 86400)
      return api::validationError(std::to_string(cors.max_age), "cors.maxAge",
                                  "Member must have value less than or equal to 86400");
    if (cors.max_age < 0)
      return api::validationError(std::to_string(cors.max_age), "cors.maxAge",
                                  "Member must have value greater than or equal to 0");
  }
  return cors;
}

json toJson(const Cors& cors) {
  return {{"AllowCredentials", cors.allow_credentials}, {"AllowHeaders", cors.allow_headers},
          {"AllowMethods", cors.allow_methods},         {"AllowOrigins", cors.allow_origins},
          {"ExposeHeaders", cors.expose_headers},       {"MaxAge", cors.max_age}};
}

Cors corsFromJson(const json& stored) {
  auto parsed = parseCors(stored);
  if (auto* cors = std::get_if<Cors>(&parsed)) return *cors;
  return {};
}

bool isPreflight(std::string_view method, std::string_view origin,
                 std::string_view requested_method) {
  return method == "OPTIONS" && !origin.empty() && !requested_method.empty();
}

Headers corsHeaders(const Cors& cors, std::string_view origin, bool preflight) {
  Headers headers;
  if (origin.empty()) return headers;
  bool any = false, listed = false;
  for (const std::string& allowed : cors.allow_origins) {
    if (allowed == "*") any = true;
    if (boost::algorithm::iequals(allowed, origin)) listed = true;
  }
  if (!any && !listed) return headers;  // not an allowed origin: the browser refuses it
  // "*" with credentials is refused by browsers: the origin itself is named instead.
  const bool wildcard = any && !listed && !cors.allow_credentials;
  headers.emplace_back("Access-Control-Allow-Origin", wildcard ? "*" : std::string(origin));
  if (!wildcard) headers.emplace_back("Vary", "Origin");
  if (cors.allow_credentials) headers.emplace_back("Access-Control-Allow-Credentials", "true");
  if (preflight) {
    if (!cors.allow_methods.empty())
      headers.emplace_back("Access-Control-Allow-Methods", joined(cors.allow_methods));
    if (!cors.allow_headers.empty())
      headers.emplace_back("Access-Control-Allow-Headers", joined(cors.allow_headers));
    if (cors.max_age > 0)
      headers.emplace_back("Access-Control-Max-Age", std::to_string(cors.max_age));
  } else if (!cors.expose_headers.empty()) {
    headers.emplace_back("Access-Control-Expose-Headers", joined(cors.expose_headers));
  }
  return headers;
}

}  // namespace wick::urls
