// Versions and aliases of FunctionService (lambda-contract.md 4.5, 5.2):
// published versions are immutable snapshots of $LATEST numbered 1, 2, ...
// (never reused); aliases name a version, optionally sending a weighted share
// of invokes to one other version.
#include <regex>

#include "common/bounded_regex.h"
#include "common/ids.h"
#include "host/api/aws_try.h"
#include "host/functions/function_service.h"
#include "host/functions/request.h"

namespace wick::functions {

using api::AwsError;
using nlohmann::json;
using registry::AliasRecord;
using registry::FunctionRecord;

namespace {

// What makes two snapshots the same version: code and configuration.
json versionContent(const FunctionRecord& record) {
  json settings = record.config.toJson();
  settings.erase("Description");
  json internal = record.internal;
  internal.erase("LastVersion");
  return {{"code", record.code_sha256}, {"settings", settings}, {"internal", internal}};
}

bool validAliasName(const std::string& name) {
  static const std::regex pattern("[a-zA-Z0-9-_]{1,128}");
  return boundedMatch(name, pattern) && name.find_first_not_of("0123456789") != std::string::npos;
}

bool isVersionNumber(const std::string& text) {
  return !text.empty() && text.size() <= 15 &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::string FunctionService::aliasArn(const std::string& function, const std::string& alias) const {
  return functionArn(settings_.scope, function, alias);
}

json FunctionService::aliasDocument(const AliasRecord& alias) const {
  json document = {{"AliasArn", aliasArn(alias.function, alias.name)},
                   {"Name", alias.name},
                   {"FunctionVersion", alias.function_version},
                   {"Description", alias.description},
                   {"RevisionId", alias.revision_id}};
  if (!alias.routing.value("AdditionalVersionWeights", json::object()).empty())
    document["RoutingConfig"] = alias.routing;
  return document;
}

std::variant<FunctionRecord, AwsError> FunctionService::publish(FunctionRecord& latest,
                                                                const std::string& description) {
  AWS_TRY(versions, registry_.versions(latest.name));
  // Nothing changed since the last version: that version is the answer.
  if (!versions.empty() && versionContent(versions.back().record) == versionContent(latest))
    return versions.back().record;
  const int64_t last = std::max<int64_t>(latest.internal.value("LastVersion", int64_t{0}),
                                         versions.empty() ? 0 : versions.back().number);
  registry::VersionRecord version;
  version.number = last + 1;
  version.record = latest;
  version.record.internal.erase("LastVersion");
  version.record.version = std::to_string(version.number);
  version.record.revision_id = newUuid();
  version.record.last_modified = utcNowMillis("+0000");
  version.record.reserved_concurrency.reset();
  version.record.tags = json::object();
  if (!description.empty()) version.record.config.description = description;
  AWS_CHECK(registry_.insertVersion(version));
  latest.internal["LastVersion"] = version.number;
  AWS_CHECK(registry_.update(latest));
  invalidate(latest.name);
  return version.record;
}

Outcome FunctionService::publishVersion(const std::string& function_name, const std::string& body) {
  AWS_TRY(request, parseJsonBody(body));
  std::lock_guard lock(mutex_);
  AWS_TRY(latest, find(function_name, "$LATEST"));
  AWS_CHECK(checkRevisionId(request, latest.revision_id));
  if (request.contains("CodeSha256")) {
    const json current = configuration(latest)["CodeSha256"];
    if (request["CodeSha256"] != current)
      return api::invalidParameter("CodeSHA256 (" + request["CodeSha256"].dump() +
                                   ") is different from current CodeSHA256 in $LATEST (" +
                                   current.get<std::string>() +
                                   "). Please try again with the CodeSHA256 in $LATEST.");
  }
  const json description = request.value("Description", json(""));
  if (!description.is_string() || description.get<std::string>().size() > 256)
    return api::validationError(description.dump(), "description",
                                "Member must have length less than or equal to 256");
  AWS_TRY(published, publish(latest, description.get<std::string>()));
  json reply = configuration(published);
  return Reply{201, reply};
}

Outcome FunctionService::listVersionsByFunction(const std::string& function_name,
                                                const std::string& marker,
                                                const std::string& max_items) {
  AWS_TRY(limit, parseMaxItems(max_items, 10000));
  AWS_TRY(latest, find(function_name, "$LATEST"));
  AWS_TRY(versions, registry_.versions(latest.name));
  // $LATEST first, then by number; the marker is the last version listed.
  std::vector<json> all;
  json latest_config = configuration(latest);
  latest_config["FunctionArn"] = functionArn(settings_.scope, latest.name, "$LATEST");
  all.push_back(std::move(latest_config));
  for (const auto& version : versions)
    all.push_back(configuration(version.record));
  size_t start = 0;
  if (!marker.empty()) {
    while (start < all.size() && all[start]["Version"] != marker)
      ++start;
    ++start;
  }
  json list = json::array();
  size_t index = start;
  for (; index < all.size() && static_cast<int64_t>(list.size()) < limit; ++index)
    list.push_back(all[index]);
  json reply = {{"Versions", list}};
  if (index < all.size() && !list.empty()) reply["NextMarker"] = list.back()["Version"];
  return Reply{200, reply};
}

namespace {

// Checks RoutingConfig against the primary version; returns it normalised.
std::variant<json, AwsError> checkRouting(const json& routing, const std::string& primary,
                                          registry::FunctionRegistry& registry,
                                          const std::string& function) {
  if (!routing.is_object()) return api::invalidParameter("RoutingConfig must be an object");
  const json weights = routing.value("AdditionalVersionWeights", json::object());
  if (!weights.is_object())
    return api::invalidParameter("RoutingConfig.AdditionalVersionWeights must be a map");
  if (weights.size() > 1)
    return api::validationError(weights.dump(), "routingConfig.additionalVersionWeights",
                                "Member must have length less than or equal to 1");
  for (const auto& [version, weight] : weights.items()) {
    if (!weight.is_number() || weight.get<double>() < 0.0 || weight.get<double>() > 1.0)
      return api::validationError(weight.dump(), "routingConfig.additionalVersionWeights",
                                  "Member must have value between 0.0 and 1.0");
    if (!isVersionNumber(version))
      return api::invalidParameter("Version " + version +
                                   " is not a published version: weighted aliases route only "
                                   "between published versions");
    if (primary == "$LATEST")
      return api::invalidParameter(
          "$LATEST is not supported for an alias pointing to more than 1 version");
    if (version == primary)
      return api::invalidParameter("Invalid function version " + version +
                                   ". The additional version must differ from the primary one.");
    AWS_TRY(exists, registry.version(function, std::stoll(version)));
    if (!exists) return api::resourceNotFound("Function not found: " + function + ":" + version);
  }
  if (weights.empty()) return json::object();
  return json{{"AdditionalVersionWeights", weights}};
}

}  // namespace

Outcome FunctionService::createAlias(const std::string& function_name, const std::string& body) {
  AWS_TRY(request, parseJsonBody(body));
  const json name = request.value("Name", json());
  if (!name.is_string() || !validAliasName(name.get<std::string>()))
    return api::validationError(name.is_null() ? "null" : name.dump(), "name",
                                "Member must satisfy regular expression pattern: "
                                "(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  const json version = request.value("FunctionVersion", json());
  if (!version.is_string() ||
      (version != "$LATEST" && !isVersionNumber(version.get<std::string>())))
    return api::validationError(version.is_null() ? "null" : version.dump(), "functionVersion",
                                "Member must satisfy regular expression pattern: "
                                "(\\$LATEST|[0-9]+)");
  const json description = request.value("Description", json(""));
  if (!description.is_string() || description.get<std::string>().size() > 256)
    return api::validationError(description.dump(), "description",
                                "Member must have length less than or equal to 256");
  std::lock_guard lock(mutex_);
  AWS_TRY(latest, find(function_name, "$LATEST"));
  const std::string function = latest.name;
  if (version != "$LATEST") {
    AWS_TRY(exists, registry_.version(function, std::stoll(version.get<std::string>())));
    if (!exists)
      return api::resourceNotFound("Function not found: " +
                                   functionArn(settings_.scope, function, version));
  }
  AWS_TRY(routing, checkRouting(request.value("RoutingConfig", json::object()), version, registry_,
                                function));
  AliasRecord alias{function,
                    name.get<std::string>(),
                    version.get<std::string>(),
                    description.get<std::string>(),
                    routing,
                    newUuid()};
  AWS_TRY(inserted, registry_.insertAlias(alias));
  if (!inserted)
    return api::resourceConflict("Alias already exists: " + aliasArn(function, alias.name));
  invalidate(function);
  return Reply{201, aliasDocument(alias)};
}

Outcome FunctionService::getAlias(const std::string& function_name, const std::string& name) {
  AWS_TRY(latest, find(function_name, "$LATEST"));
  const std::string function = latest.name;
  AWS_TRY(alias, registry_.alias(function, name));
  if (!alias) return api::resourceNotFound("Cannot find alias arn: " + aliasArn(function, name));
  return Reply{200, aliasDocument(*alias)};
}

Outcome FunctionService::updateAlias(const std::string& function_name, const std::string& name,
                                     const std::string& body) {
  AWS_TRY(request, parseJsonBody(body));
  std::lock_guard lock(mutex_);
  AWS_TRY(latest, find(function_name, "$LATEST"));
  const std::string function = latest.name;
  AWS_TRY(existing, registry_.alias(function, name));
  if (!existing) return api::resourceNotFound("Cannot find alias arn: " + aliasArn(function, name));
  AliasRecord alias = *existing;
  AWS_CHECK(checkRevisionId(request, alias.revision_id));
  if (request.contains("FunctionVersion")) {
    const json& version = request["FunctionVersion"];
    if (!version.is_string() ||
        (version != "$LATEST" && !isVersionNumber(version.get<std::string>())))
      return api::validationError(version.dump(), "functionVersion",
                                  "Member must satisfy regular expression pattern: "
                                  "(\\$LATEST|[0-9]+)");
    if (version != "$LATEST") {
      AWS_TRY(exists, registry_.version(function, std::stoll(version.get<std::string>())));
      if (!exists)
        return api::resourceNotFound("Function not found: " +
                                     functionArn(settings_.scope, function, version));
    }
    alias.function_version = version.get<std::string>();
  }
  if (request.contains("Description")) {
    const json& description = request["Description"];
    if (!description.is_string() || description.get<std::string>().size() > 256)
      return api::validationError(description.dump(), "description",
                                  "Member must have length less than or equal to 256");
    alias.description = description.get<std::string>();
  }
  AWS_TRY(routing, checkRouting(request.value("RoutingConfig", alias.routing),
                                alias.function_version, registry_, function));
  alias.routing = routing;
  alias.revision_id = newUuid();
  AWS_CHECK(registry_.updateAlias(alias));
  invalidate(function);
  return Reply{200, aliasDocument(alias)};
}

Outcome FunctionService::deleteAlias(const std::string& function_name, const std::string& name) {
  std::lock_guard lock(mutex_);
  AWS_TRY(latest, find(function_name, "$LATEST"));
  const std::string function = latest.name;
  AWS_TRY(removed, registry_.removeAlias(function, name));
  if (!removed) return api::resourceNotFound("Cannot find alias arn: " + aliasArn(function, name));
  invalidate(function);
  return Reply{204, std::nullopt};
}

Outcome FunctionService::listAliases(const std::string& function_name,
                                     const std::string& function_version, const std::string& marker,
                                     const std::string& max_items) {
  AWS_TRY(limit, parseMaxItems(max_items, 10000));
  AWS_TRY(latest, find(function_name, "$LATEST"));
  AWS_TRY(aliases, registry_.aliases(latest.name));  // by name
  json list = json::array();
  std::optional<std::string> next_marker;
  for (const auto& alias : aliases) {
    if (!marker.empty() && alias.name <= marker) continue;
    if (!function_version.empty() && alias.function_version != function_version) continue;
    if (static_cast<int64_t>(list.size()) == limit) {
      next_marker = list.back()["Name"].get<std::string>();
      break;
    }
    list.push_back(aliasDocument(alias));
  }
  json reply = {{"Aliases", list}};
  if (next_marker) reply["NextMarker"] = *next_marker;
  return Reply{200, reply};
}

}  // namespace wick::functions
