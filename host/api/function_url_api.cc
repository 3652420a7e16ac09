#include "host/api/function_url_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <regex>

#include "common/bounded_regex.h"
#include "common/ids.h"
#include "host/api/outcome_response.h"
#include "host/functions/function_name.h"
#include "host/functions/request.h"
#include "host/functions/validation.h"
#include "host/urls/cors.h"
#include "host/urls/resource_policy.h"
#include "host/urls/url_route.h"

namespace wick::api {

namespace asio = boost::asio;
using http::beast_http::verb;
using nlohmann::json;

namespace {

enum class Route { kUrl, kUrls, kPolicy, kStatement };
struct Parsed {
  Route route;
  std::string name;
  std::string sid;
};

std::optional<Parsed> parsePath(const std::string& path) {
  static constexpr std::string_view kUrlPrefix = "/2021-10-31/functions/";
  static constexpr std::string_view kPolicyPrefix = "/2015-03-31/functions/";
  if (path.starts_with(kUrlPrefix)) {
    const std::string rest = path.substr(kUrlPrefix.size());
    for (auto [suffix, route] : {std::pair{"/url", Route::kUrl}, {"/urls", Route::kUrls}})
      if (rest.size() > std::strlen(suffix) && rest.ends_with(suffix) &&
          rest.find('/') == rest.size() - std::strlen(suffix))
        return Parsed{route, http::percentDecode(rest.substr(0, rest.size() - std::strlen(suffix))),
                      ""};
    return std::nullopt;
  }
  if (!path.starts_with(kPolicyPrefix)) return std::nullopt;
  const std::string rest = path.substr(kPolicyPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  const std::string tail = rest.substr(slash);
  std::string name = http::percentDecode(rest.substr(0, slash));
  if (tail == "/policy") return Parsed{Route::kPolicy, std::move(name), ""};
  if (tail.starts_with("/policy/") && tail.size() > 8 && tail.find('/', 8) == std::string::npos)
    return Parsed{Route::kStatement, std::move(name), http::percentDecode(tail.substr(8))};
  return std::nullopt;
}

// "2025-11-24T23:09:04.123456Z"
std::string isoNowMicros() {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[48];
  const size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%06lldZ",
                static_cast<long long>(micros % 1'000'000));
  return text;
}

const AwsError kNoSuchResource = resourceNotFound("The resource you requested does not exist.");

std::optional<AwsError> checkAuthType(const json& value) {
  if (!value.is_string() || (value != "NONE" && value != "AWS_IAM"))
    return validationError(value.is_string() ? value.get<std::string>() : value.dump(), "authType",
                           "Member must satisfy enum value set: [AWS_IAM, NONE]");
  return std::nullopt;
}

std::optional<AwsError> checkInvokeMode(const json& value) {
  if (!value.is_string() || (value != "BUFFERED" && value != "RESPONSE_STREAM"))
    return validationError(value.is_string() ? value.get<std::string>() : value.dump(),
                           "invokeMode",
                           "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]");
  return std::nullopt;
}

// InvokeMode and Cors, where the request gives them (create and update alike).
std::optional<AwsError> applyModeAndCors(const json& request, urls::UrlConfig& config) {
  if (request.contains("InvokeMode") && !request["InvokeMode"].is_null()) {
    if (auto refused = checkInvokeMode(request["InvokeMode"])) return refused;
    config.invoke_mode = request["InvokeMode"].get<std::string>();
  }
  if (request.contains("Cors") && !request["Cors"].is_null()) {
    auto cors = urls::parseCors(request["Cors"]);
    if (auto* error = std::get_if<AwsError>(&cors)) return *error;
    config.cors_json = urls::toJson(std::get<urls::Cors>(cors)).dump();
  }
  return std::nullopt;
}

}  // namespace

std::optional<AwsError> FunctionUrlApi::lookupError(const std::string& function,
                                                    const std::string& qualifier) {
  auto resolved = functions_.resolve(function, qualifier);
  if (auto* error = std::get_if<AwsError>(&resolved)) return *error;
  return std::nullopt;
}

bool FunctionUrlApi::claims(const http::Request& request) {
  return parsePath(request.path).has_value();
}

asio::awaitable<http::Response> FunctionUrlApi::handle(http::Request request) {
  co_return co_await respondOnWorkers(workers_, request, [&] { return answer(request); });
}

functions::Outcome FunctionUrlApi::answer(const http::Request& request) {
  const Parsed parsed = *parsePath(request.path);
  const verb method = request.method;
  const AwsError not_allowed{405, "MethodNotAllowed", "Unsupported method"};
  switch (parsed.route) {
    case Route::kUrls:
      if (method != verb::get) return not_allowed;
      return listUrls(parsed.name, request);
    case Route::kUrl: {
      const bool writes = method == verb::post || method == verb::put;
      auto found = urlTarget(parsed.name, request,
                             writes ? "Function does not exist" : kNoSuchResource.message);
      if (auto* error = std::get_if<AwsError>(&found)) return *error;
      const Target& target = std::get<Target>(found);
      if (method == verb::post) return createUrl(target, request.body);
      if (method == verb::put) return updateUrl(target, request.body);
      if (method == verb::get) {
        auto config = store_.url(target.function, target.qualifier);
        if (!config) return functions::internalError(config.error());
        if (!*config) return kNoSuchResource;
        return functions::Reply{200, document(**config, true)};
      }
      if (method == verb::delete_) {
        auto removed = store_.removeUrl(target.function, target.qualifier);
        if (!removed) return functions::internalError(removed.error());
        directory_.forgetAll();
        if (!*removed) return kNoSuchResource;
        return functions::Reply{204, std::nullopt};
      }
      return not_allowed;
    }
    case Route::kPolicy:
    case Route::kStatement: {
      auto found = policyTarget(parsed.name, request);
      if (auto* error = std::get_if<AwsError>(&found)) return *error;
      const Target& target = std::get<Target>(found);
      if (parsed.route == Route::kStatement)
        return method == verb::delete_
                   ? removePermission(target, parsed.sid, request.queryValue("RevisionId"))
                   : not_allowed;
      if (method == verb::post) return addPermission(target, request.body);
      if (method == verb::get) return getPolicy(target);
      return not_allowed;
    }
  }
  return not_allowed;
}

std::variant<FunctionUrlApi::Target, AwsError> FunctionUrlApi::urlTarget(
    const std::string& name, const http::Request& request, const std::string& missing_function) {
  auto parsed = functions::parseFunctionName(name);
  if (!parsed) return functions::invalidFunctionName(name);
  const bool has_query = request.hasQuery("Qualifier");
  const std::string qualifier = has_query ? request.queryValue("Qualifier") : parsed->qualifier;
  if (has_query && !parsed->qualifier.empty() && parsed->qualifier != qualifier)
    return functions::qualifierMismatch();
  // Lambda's model: an alias name only; $LATEST is the URL without a qualifier.
  static const std::regex alias_only(R"(^[0-9a-zA-Z_-]+$)");
  static const std::regex digits(R"(^\d+$)");
  if ((has_query || !qualifier.empty()) &&
      (qualifier.size() > 128 || !boundedMatch(qualifier, alias_only) ||
       boundedMatch(qualifier, digits)))
    return validationError(qualifier, "qualifier",
                           "Member must satisfy regular expression pattern: "
                           "((?!^\\d+$)^[0-9a-zA-Z-_]+$)");
  Target target{parsed->name, qualifier.empty() ? "$LATEST" : qualifier, ""};
  target.arn = functions::functionArn(functions_.settings().scope, target.function,
                                      qualifier.empty() ? "" : qualifier);
  if (auto error = lookupError(target.function, qualifier))
    return error->status >= 500 ? *error : resourceNotFound(missing_function);
  return target;
}

std::variant<FunctionUrlApi::Target, AwsError> FunctionUrlApi::policyTarget(
    const std::string& name, const http::Request& request) {
  auto parsed = functions::parseFunctionName(name);
  if (!parsed) return functions::invalidFunctionName(name);
  const std::string qualifier =
      request.hasQuery("Qualifier") ? request.queryValue("Qualifier") : parsed->qualifier;
  if (request.hasQuery("Qualifier") && !parsed->qualifier.empty() && parsed->qualifier != qualifier)
    return functions::qualifierMismatch();
  static const std::regex pattern(R"(^(|[a-zA-Z0-9$_-]+)$)");
  if (qualifier.size() > 128 || !boundedMatch(qualifier, pattern))
    return validationError(qualifier, "qualifier",
                           "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)");
  const bool latest = qualifier.empty() || qualifier == "$LATEST";
  Target target{parsed->name, latest ? "$LATEST" : qualifier, ""};
  target.arn =
      functions::functionArn(functions_.settings().scope, target.function, latest ? "" : qualifier);
  if (auto error = lookupError(target.function, latest ? "" : qualifier))
    return error->status >= 500 ? *error : resourceNotFound("Function not found: " + target.arn);
  return target;
}

functions::Outcome FunctionUrlApi::createUrl(const Target& target, const std::string& body) {
  auto parsed = functions::parseJsonBody(body);
  if (auto* error = std::get_if<AwsError>(&parsed)) return *error;
  const json& request = std::get<json>(parsed);
  if (!request.contains("AuthType") || request["AuthType"].is_null())
    return validationError("null", "authType", "Member must not be null");
  if (auto refused = checkAuthType(request["AuthType"])) return *refused;
  urls::UrlConfig config;
  config.function = target.function;
  config.qualifier = target.qualifier;
  config.url_id = urls::newUrlId();
  config.auth_type = request["AuthType"].get<std::string>();
  if (auto refused = applyModeAndCors(request, config)) return *refused;
  config.creation_time = config.last_modified_time = isoNowMicros();
  auto created = store_.createUrl(config);
  if (!created) return functions::internalError(created.error());
  if (!*created)
    return resourceConflict(
        "Failed to create function url config for [functionArn = " + target.arn +
        "]. Error message:  FunctionUrlConfig exists for this Lambda function");
  directory_.forgetAll();
  return functions::Reply{201, document(config, false)};
}

functions::Outcome FunctionUrlApi::updateUrl(const Target& target, const std::string& body) {
  auto parsed = functions::parseJsonBody(body);
  if (auto* error = std::get_if<AwsError>(&parsed)) return *error;
  const json& request = std::get<json>(parsed);
  auto existing = store_.url(target.function, target.qualifier);
  if (!existing) return functions::internalError(existing.error());
  if (!*existing) return kNoSuchResource;
  urls::UrlConfig config = **existing;
  if (request.contains("AuthType") && !request["AuthType"].is_null()) {
    if (auto refused = checkAuthType(request["AuthType"])) return *refused;
    config.auth_type = request["AuthType"].get<std::string>();
  }
  if (auto refused = applyModeAndCors(request, config)) return *refused;
  config.last_modified_time = isoNowMicros();
  if (auto updated = store_.updateUrl(config); !updated)
    return functions::internalError(updated.error());
  directory_.forgetAll();
  return functions::Reply{200, document(config, true)};
}

functions::Outcome FunctionUrlApi::listUrls(const std::string& name, const http::Request& request) {
  auto parsed = functions::parseFunctionName(name);
  if (!parsed) return functions::invalidFunctionName(name);
  auto max_items = functions::parseMaxItems(request.queryValue("MaxItems"), 50);
  if (auto* error = std::get_if<AwsError>(&max_items)) return *error;
  if (auto error = lookupError(parsed->name, ""))
    return error->status >= 500 ? *error : resourceNotFound("Function does not exist");
  auto configs = store_.urls(parsed->name);
  if (!configs) return functions::internalError(configs.error());
  size_t start = 0;
  if (const std::string marker = request.queryValue("Marker"); !marker.empty()) {
    if (marker.find_first_not_of("0123456789") != std::string::npos || marker.size() > 9)
      return invalidParameter("Invalid Marker: " + marker);
    start = std::stoul(marker);
  }
  json page = json::array();
  size_t next = start;
  for (; next < configs->size() && static_cast<int64_t>(page.size()) < std::get<int64_t>(max_items);
       ++next)
    page.push_back(document((*configs)[next], true));
  json reply = {{"FunctionUrlConfigs", page}};
  if (next < configs->size()) reply["NextMarker"] = std::to_string(next);
  return functions::Reply{200, reply};
}

functions::Outcome FunctionUrlApi::addPermission(const Target& target, const std::string& body) {
  auto parsed = functions::parseJsonBody(body);
  if (auto* error = std::get_if<AwsError>(&parsed)) return *error;
  const json& request = std::get<json>(parsed);
  auto statement = urls::statementFor(request, target.arn);
  if (auto* error = std::get_if<AwsError>(&statement)) return *error;
  const json& rendered = std::get<json>(statement);
  auto policy = store_.policy(target.function, target.qualifier);
  if (!policy) return functions::internalError(policy.error());
  if (request.contains("RevisionId") && request["RevisionId"].is_string() &&
      (!*policy || (*policy)->revision_id != request["RevisionId"].get<std::string>()))
    return preconditionFailed(
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API "
        "to retrieve the latest Revision Id");
  const std::string sid = rendered["Sid"].get<std::string>();
  auto added =
      store_.addStatement(target.function, target.qualifier, {sid, rendered.dump()}, newUuid());
  if (!added) return functions::internalError(added.error());
  if (!*added)
    return resourceConflict("The statement id (" + sid +
                            ") provided already exists. Please provide a new statement id, or "
                            "remove the existing statement.");
  directory_.forgetAll();
  return functions::Reply{201, json{{"Statement", rendered.dump()}}};
}

functions::Outcome FunctionUrlApi::getPolicy(const Target& target) {
  auto policy = store_.policy(target.function, target.qualifier);
  if (!policy) return functions::internalError(policy.error());
  if (!*policy) return kNoSuchResource;
  return functions::Reply{200, json{{"Policy", urls::policyDocument(**policy).dump()},
                                    {"RevisionId", (*policy)->revision_id}}};
}

functions::Outcome FunctionUrlApi::removePermission(const Target& target, const std::string& sid,
                                                    const std::string& revision_id) {
  auto policy = store_.policy(target.function, target.qualifier);
  if (!policy) return functions::internalError(policy.error());
  if (!*policy) return resourceNotFound("No policy is associated with the given resource.");
  if (!revision_id.empty() && (*policy)->revision_id != revision_id)
    return preconditionFailed(
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API "
        "to retrieve the latest Revision Id");
  auto removed = store_.removeStatement(target.function, target.qualifier, sid, newUuid());
  if (!removed) return functions::internalError(removed.error());
  if (!*removed) return resourceNotFound("Statement " + sid + " is not found in resource policy.");
  directory_.forgetAll();
  return functions::Reply{204, std::nullopt};
}

void FunctionUrlApi::forgetDeleted(const std::string& name, const std::string& qualifier) {
  auto parsed = functions::parseFunctionName(name);
  if (!parsed) return;
  const std::string version = !qualifier.empty() ? qualifier : parsed->qualifier;
  Status forgotten = version.empty() ? store_.removeFunction(parsed->name)
                                     : store_.removeQualifier(parsed->name, version);
  if (!forgotten)
    spdlog::error("delete the function URLs and policy of {}: {}", name,
                  forgotten.error().message());
  directory_.forgetAll();
}

json FunctionUrlApi::document(const urls::UrlConfig& config, bool with_modified) const {
  json document = {{"FunctionUrl", base_.urlFor(config.url_id)},
                   {"FunctionArn",
                    functions::functionArn(functions_.settings().scope, config.function,
                                           config.qualifier == "$LATEST" ? "" : config.qualifier)},
                   {"AuthType", config.auth_type},
                   {"CreationTime", config.creation_time}};
  if (!config.cors_json.empty()) document["Cors"] = json::parse(config.cors_json, nullptr, false);
  if (with_modified) {
    document["LastModifiedTime"] = config.last_modified_time;
    document["InvokeMode"] = config.invoke_mode.empty() ? "BUFFERED" : config.invoke_mode;
  } else if (!config.invoke_mode.empty()) {
    document["InvokeMode"] = config.invoke_mode;
  }
  return document;
}

}  // namespace wick::api
