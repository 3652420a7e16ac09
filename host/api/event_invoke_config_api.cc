#include "host/api/event_invoke_config_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <regex>

#include "common/ids.h"
#include "host/api/aws_try.h"
#include "host/api/outcome_response.h"
#include "host/functions/function_name.h"
#include "host/functions/request.h"
#include "host/functions/validation.h"

namespace wick::api {

namespace asio = boost::asio;
using http::beast_http::verb;
using nlohmann::json;

namespace {

constexpr std::string_view kPrefix = "/2019-09-25/functions/";

// /2019-09-25/functions/{name}/event-invoke-config[/list] -> name, list?
std::optional<std::pair<std::string, bool>> parsePath(const std::string& path) {
  if (!path.starts_with(kPrefix)) return std::nullopt;
  const std::string rest = path.substr(kPrefix.size());
  for (const bool list : {false, true}) {
    const std::string suffix = list ? "/event-invoke-config/list" : "/event-invoke-config";
    if (rest.size() > suffix.size() && rest.ends_with(suffix))
      return std::make_pair(http::percentDecode(rest.substr(0, rest.size() - suffix.size())), list);
  }
  return std::nullopt;
}

std::string serviceOf(const std::string& arn) {
  // arn:PARTITION:SERVICE:...
  const size_t first = arn.find(':');
  const size_t second = first == std::string::npos ? first : arn.find(':', first + 1);
  const size_t third = second == std::string::npos ? second : arn.find(':', second + 1);
  return third == std::string::npos ? "" : arn.substr(second + 1, third - second - 1);
}

}  // namespace

bool EventInvokeConfigApi::claims(const http::Request& request) {
  return parsePath(request.path).has_value();
}

asio::awaitable<http::Response> EventInvokeConfigApi::handle(http::Request request) {
  co_return co_await respondOnWorkers(workers_, request, [&] { return answer(request); });
}

functions::Outcome EventInvokeConfigApi::answer(const http::Request& request) {
  const auto [name, is_list] = *parsePath(request.path);
  if (is_list) {
    if (request.method != verb::get) return AwsError{405, "MethodNotAllowed", "GET only"};
    return list(name, request);
  }
  const bool write = request.method == verb::put || request.method == verb::post;
  AWS_TRY(at, target(name, request.queryValue("Qualifier"), write));
  const AwsError no_config =
      resourceNotFound("The function " + at.arn + " doesn't have an EventInvokeConfig");
  switch (request.method) {
    case verb::put:
      return put(at, request.body, false);
    case verb::post:
      return put(at, request.body, true);
    case verb::get: {
      AWS_TRY(config, configs_.get(at.function, at.qualifier));
      if (!config) return no_config;
      return functions::Reply{200, document(*config)};
    }
    case verb::delete_: {
      AWS_TRY(removed, configs_.remove(at.function, at.qualifier));
      if (!removed) return no_config;
      return functions::Reply{204, std::nullopt};
    }
    default:
      return AwsError{405, "MethodNotAllowed", "Unsupported method"};
  }
}

std::variant<EventInvokeConfigApi::Target, AwsError> EventInvokeConfigApi::target(
    const std::string& name, const std::string& qualifier, bool for_write) {
  auto parsed = functions::parseFunctionName(name);
  if (!parsed) return functions::invalidFunctionName(name);
  if (!parsed->qualifier.empty() && !qualifier.empty() && parsed->qualifier != qualifier)
    return functions::qualifierMismatch();
  Target at;
  at.function = parsed->name;
  at.qualifier = !qualifier.empty()           ? qualifier
                 : !parsed->qualifier.empty() ? parsed->qualifier
                                              : "$LATEST";
  at.arn = functions::functionArn(functions_.settings().scope, at.function, at.qualifier);
  auto resolved = functions_.resolve(at.function, at.qualifier == "$LATEST" ? "" : at.qualifier);
  if (auto* error = std::get_if<AwsError>(&resolved)) {
    if (error->status >= 500) return *error;  // the registry failed: not "no such function"
    return for_write
               ? resourceNotFound("The function doesn't exist.")
               : resourceNotFound("The function " + at.arn + " doesn't have an EventInvokeConfig");
  }
  return at;
}

std::optional<AwsError> EventInvokeConfigApi::checkDestination(const Target& target,
                                                               const std::string& arn,
                                                               bool on_success,
                                                               const json& destinations) {
  static const std::regex pattern(
      R"(^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$)");
  const std::string field =
      std::string("destinationConfig.") + (on_success ? "onSuccess" : "onFailure") + ".destination";
  // Length first: std::regex recurses once per character it matches, and a
  // 100 KB ARN overflowed the stack.
  if (arn.size() > 350)
    return validationError(arn, field, "Member must have length less than or equal to 350");
  if (!std::regex_match(arn, pattern))
    return validationError(
        arn, field,
        "Member must satisfy regular expression pattern: "
        "^$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,61}))?[^.](:[0-9]+)?|"
        "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:"
        "(\\d{12})?:(.*)");
  const std::string service = serviceOf(arn);
  if (service == "lambda") {
    auto named = functions::parseFunctionName(arn);
    if (!named) return invalidParameter("The destination ARN " + arn + " is invalid.");
    if (named->name == target.function)
      return invalidParameter("You can't specify the function as a destination for itself.");
    // A function of this wickd (its region and account), that exists.
    const std::string ours = functions::functionArn(functions_.settings().scope, named->name);
    const AwsError invalid = invalidParameter("The destination ARN " + arn + " is invalid.");
    if (!arn.starts_with(ours)) return invalid;
    auto resolved = functions_.resolve(named->name, named->qualifier);
    if (auto* error = std::get_if<AwsError>(&resolved))
      return error->status >= 500 ? *error : invalid;  // the registry failed: not a bad ARN
    return std::nullopt;
  }
  if (service == "sqs" || service == "sns" || service == "events" ||
      (service == "s3" && !on_success))
    return std::nullopt;
  auto describe = [&](const char* key) -> std::string {
    const std::string destination = destinations.contains(key)
                                        ? destinations[key].value("Destination", std::string())
                                        : std::string();
    if (destination.empty()) return "null";
    return std::string(key == std::string("OnSuccess") ? "OnSuccess" : "OnFailure") +
           "(destination=" + destination + ")";
  };
  return invalidParameter(
      "The provided destination config DestinationConfig(onSuccess=" + describe("OnSuccess") +
      ", onFailure=" + describe("OnFailure") + ") is invalid.");
}

functions::Outcome EventInvokeConfigApi::put(const Target& target, const std::string& body,
                                             bool merge) {
  AWS_TRY(request, functions::parseJsonBody(body));
  const bool has_retries = request.contains("MaximumRetryAttempts");
  const bool has_age = request.contains("MaximumEventAgeInSeconds");
  const bool has_destinations = request.contains("DestinationConfig");
  if (!has_retries && !has_age && !has_destinations)
    return invalidParameter(
        "You must specify at least one of error handling or destination setting.");

  // Shapes first, before any lookup (a Destination that is not a string
  // threw from json::value: a 500).
  if (has_destinations && request["DestinationConfig"].is_object()) {
    const json& destinations = request["DestinationConfig"];
    for (const char* key : {"OnSuccess", "OnFailure"}) {
      if (!destinations.contains(key) || destinations[key].is_null()) continue;
      const json& side = destinations[key];
      const std::string field =
          std::string("destinationConfig.") + (key[2] == 'S' ? "onSuccess" : "onFailure");
      if (!side.is_object()) return validationError(side.dump(), field, "Member must be an object");
      if (side.contains("Destination") && !side["Destination"].is_string())
        return validationError(side["Destination"].dump(), field + ".destination",
                               "Member must be a string");
    }
  }

  async::EventInvokeConfig config;
  config.function = target.function;
  config.qualifier = target.qualifier;
  if (merge) {
    AWS_TRY(existing, configs_.get(target.function, target.qualifier));
    if (!existing)
      return resourceNotFound("The function " + target.arn + " doesn't have an EventInvokeConfig");
    config = *existing;
  }
  if (has_retries) {
    const json& value = request["MaximumRetryAttempts"];
    if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 2)
      return validationError(value.dump(), "maximumRetryAttempts",
                             "Member must have value less than or equal to 2");
    config.maximum_retry_attempts = value.get<int>();
  }
  if (has_age) {
    const json& value = request["MaximumEventAgeInSeconds"];
    if (!value.is_number_integer() || value.get<int64_t>() < 60 || value.get<int64_t>() > 21600)
      return validationError(value.dump(), "maximumEventAgeInSeconds",
                             value.is_number_integer() && value.get<int64_t>() < 60
                                 ? "Member must have value greater than or equal to 60"
                                 : "Member must have value less than or equal to 21600");
    config.maximum_event_age_seconds = value.get<int64_t>();
  }
  if (has_destinations) {
    const json& destinations = request["DestinationConfig"];
    if (!destinations.is_object()) return invalidParameter("DestinationConfig must be an object");
    for (const bool on_success : {true, false}) {
      const char* key = on_success ? "OnSuccess" : "OnFailure";
      std::string& into = on_success ? config.on_success : config.on_failure;
      if (!merge) into.clear();
      if (!destinations.contains(key)) continue;
      const std::string arn = destinations[key].is_object()
                                  ? destinations[key].value("Destination", std::string())
                                  : std::string();
      if (!arn.empty()) AWS_CHECK(checkDestination(target, arn, on_success, destinations));
      into = arn;  // "" clears it
    }
  } else if (!merge) {
    config.on_success.clear();
    config.on_failure.clear();
  }
  if (!merge) {  // Put replaces: what it does not say is gone
    if (!has_retries) config.maximum_retry_attempts.reset();
    if (!has_age) config.maximum_event_age_seconds.reset();
  }
  config.last_modified_ms = epochMillis();
  AWS_CHECK(configs_.put(config));
  return functions::Reply{200, document(config)};
}

functions::Outcome EventInvokeConfigApi::list(const std::string& name,
                                              const http::Request& request) {
  auto parsed = functions::parseFunctionName(name);
  if (!parsed) return resourceNotFound("The function doesn't exist.");
  auto resolved = functions_.resolve(parsed->name, "");
  if (auto* error = std::get_if<AwsError>(&resolved))
    return error->status >= 500 ? *error : resourceNotFound("The function doesn't exist.");
  AWS_TRY(max_items, functions::parseMaxItems(request.queryValue("MaxItems"), 50));
  AWS_TRY(configs, configs_.list(parsed->name));
  size_t start = 0;
  if (const std::string marker = request.queryValue("Marker"); !marker.empty()) {
    start = static_cast<size_t>(std::strtoull(marker.c_str(), nullptr, 10));
    if (marker.find_first_not_of("0123456789") != std::string::npos)
      return invalidParameter("Invalid Marker: " + marker);
  }
  json page = json::array();
  size_t next = start;
  for (; next < configs.size() && static_cast<int64_t>(page.size()) < max_items; ++next)
    page.push_back(document(configs[next]));
  json reply = {{"FunctionEventInvokeConfigs", page}};
  if (next < configs.size()) reply["NextMarker"] = std::to_string(next);
  return functions::Reply{200, reply};
}

json EventInvokeConfigApi::document(const async::EventInvokeConfig& config) const {
  json destination_config = {{"OnSuccess", json::object()}, {"OnFailure", json::object()}};
  if (!config.on_success.empty())
    destination_config["OnSuccess"]["Destination"] = config.on_success;
  if (!config.on_failure.empty())
    destination_config["OnFailure"]["Destination"] = config.on_failure;
  json document = {{"LastModified", static_cast<double>(config.last_modified_ms) / 1000.0},
                   {"FunctionArn", functions::functionArn(functions_.settings().scope,
                                                          config.function, config.qualifier)},
                   {"DestinationConfig", destination_config}};
  if (config.maximum_retry_attempts)
    document["MaximumRetryAttempts"] = *config.maximum_retry_attempts;
  if (config.maximum_event_age_seconds)
    document["MaximumEventAgeInSeconds"] = *config.maximum_event_age_seconds;
  return document;
}

}  // namespace wick::api
