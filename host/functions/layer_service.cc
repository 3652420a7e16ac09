#include "host/functions/layer_service.h"

#include <algorithm>
#include <regex>

#include "common/bounded_regex.h"
#include "common/encoding.h"
#include "common/ids.h"
#include "host/api/aws_try.h"
#include "host/functions/request.h"
#include "host/runtimes/catalog.h"

namespace wick::functions {

using api::AwsError;
using nlohmann::json;
using registry::LayerVersionRecord;

namespace {

const std::regex& layerNamePattern() {
  static const std::regex pattern("[a-zA-Z0-9-_]{1,140}");
  return pattern;
}

// "name", or the layer's ARN (arn:aws:lambda:<region>:<account>:layer:<name>).
std::optional<std::string> parseLayerName(const std::string& text) {
  static const std::regex arn(
      "arn:[a-zA-Z0-9-]+:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:"
      "([a-zA-Z0-9-_]{1,140})");
  std::smatch match;
  if (boundedMatch(text, match, arn)) return match[5].str();
  if (boundedMatch(text, layerNamePattern())) return text;
  return std::nullopt;
}

struct LayerVersionArn {
  std::string name;
  int64_t version = 0;
};

std::optional<LayerVersionArn> parseLayerVersionArn(const std::string& text) {
  static const std::regex arn(
      "arn:[a-zA-Z0-9-]+:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:"
      "([a-zA-Z0-9-_]{1,140}):([0-9]{1,15})");
  std::smatch match;
  if (!boundedMatch(text, match, arn)) return std::nullopt;
  return LayerVersionArn{match[5].str(), std::stoll(match[6].str())};
}

std::optional<int64_t> parseVersionNumber(const std::string& text) {
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(text);
}

std::optional<AwsError> checkStringList(const json& request, const char* key, const char* field,
                                        size_t max, const std::vector<std::string>& allowed) {
  if (!request.contains(key)) return std::nullopt;
  const json& list = request[key];
  if (!list.is_array()) return api::validationError(list.dump(), field, "Member must be a list");
  if (list.size() > max)
    return api::validationError(
        list.dump(), field, "Member must have length less than or equal to " + std::to_string(max));
  for (const auto& item : list) {
    if (!item.is_string())
      return api::validationError(list.dump(), field, "Member must be a list of strings");
    if (!allowed.empty() &&
        std::find(allowed.begin(), allowed.end(), item.get<std::string>()) == allowed.end()) {
      std::string values;
      for (const auto& value : allowed)
        values += (values.empty() ? "" : ", ") + value;
      return api::validationError(list.dump(), field,
                                  "Member must satisfy constraint: [Member must satisfy enum "
                                  "value set: [" +
                                      values + "]]");
    }
  }
  return std::nullopt;
}

bool matchesFilters(const LayerVersionRecord& layer, const std::string& runtime,
                    const std::string& architecture) {
  auto has = [](const json& list, const std::string& value) {
    return std::any_of(list.begin(), list.end(),
                       [&](const json& item) { return item.get<std::string>() == value; });
  };
  if (!runtime.empty() && !has(layer.compatible_runtimes, runtime)) return false;
  if (!architecture.empty() && !has(layer.compatible_architectures, architecture)) return false;
  return true;
}

AwsError notFound() {
  return api::resourceNotFound("The resource you requested does not exist.");
}

}  // namespace

std::string LayerService::layerArn(const std::string& name) const {
  return "arn:aws:lambda:" + settings_.scope.region + ":" + settings_.scope.account +
         ":layer:" + name;
}

std::string LayerService::location(const std::string& code_sha256) const {
  std::string url = settings_.content_url_base + "/" + code_sha256 + ".zip";
  return settings_.presign_location ? settings_.presign_location(url) : url;
}

json LayerService::versionDocument(const LayerVersionRecord& layer) const {
  json document = {{"LayerArn", layerArn(layer.name)},
                   {"LayerVersionArn", layerArn(layer.name) + ":" + std::to_string(layer.version)},
                   {"Version", layer.version},
                   {"Description", layer.description},
                   {"CreatedDate", layer.created_date},
                   {"CompatibleRuntimes", layer.compatible_runtimes},
                   {"CompatibleArchitectures", layer.compatible_architectures}};
  if (!layer.license_info.empty()) document["LicenseInfo"] = layer.license_info;
  return document;
}

Outcome LayerService::publishLayerVersion(const std::string& layer_name, const std::string& body) {
  auto name = parseLayerName(layer_name);
  if (!name)
    return api::validationError(
        layer_name, "layerName",
        "Member must satisfy regular expression pattern: "
        "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)"
        "|[a-zA-Z0-9-_]+");
  AWS_TRY(request, parseJsonBody(body));
  if (!request.contains("Content") || !request["Content"].is_object())
    return api::validationError("null", "content", "Member must not be null");
  const json& content = request["Content"];
  if (content.contains("S3Bucket") || content.contains("S3Key"))
    return api::invalidParameter("Content from S3 is not supported by wick: pass Content.ZipFile");
  if (!content.contains("ZipFile") || !content["ZipFile"].is_string())
    return api::invalidParameter("Please provide a source for the layer (Content.ZipFile).");
  if (request.contains("Description") && (!request["Description"].is_string() ||
                                          request["Description"].get<std::string>().size() > 256))
    return api::validationError(request["Description"].dump(), "description",
                                "Member must have length less than or equal to 256");
  if (request.contains("LicenseInfo") && (!request["LicenseInfo"].is_string() ||
                                          request["LicenseInfo"].get<std::string>().size() > 512))
    return api::validationError(request["LicenseInfo"].dump(), "licenseInfo",
                                "Member must have length less than or equal to 512");
  if (auto error = checkStringList(request, "CompatibleRuntimes", "compatibleRuntimes", 15, {}))
    return *error;
  if (auto error = checkStringList(request, "CompatibleArchitectures", "compatibleArchitectures", 2,
                                   {"x86_64", "arm64"}))
    return *error;
  AWS_TRY(stored, storeZipUpload(content_, content["ZipFile"].get<std::string>(), "Content.ZipFile",
                                 settings_.max_zipped_bytes, settings_.max_unzipped_bytes));

  std::lock_guard lock(mutex_);
  AWS_TRY(existing, registry_.layerVersions(*name));
  LayerVersionRecord layer;
  layer.name = *name;
  // Numbers are never reused, deleted versions included.
  layer.version = existing.empty() ? 1 : existing.front().version + 1;
  layer.description = request.value("Description", "");
  layer.compatible_runtimes = request.value("CompatibleRuntimes", json::array());
  layer.compatible_architectures = request.value("CompatibleArchitectures", json::array());
  layer.license_info = request.value("LicenseInfo", "");
  layer.code_sha256 = stored.sha256_hex;
  layer.code_size = stored.size;
  layer.unpacked_size = stored.unpacked_size;
  // An earlier version with the same zip unpacked it: take its measure.
  for (const auto& earlier : existing)
    if (earlier.code_sha256 == layer.code_sha256 && layer.unpacked_size == 0)
      layer.unpacked_size = earlier.unpacked_size;
  layer.created_date = utcNowMillis("+0000");
  AWS_CHECK(registry_.insertLayerVersion(layer));
  json reply = versionDocument(layer);
  reply["Content"] = {{"Location", location(layer.code_sha256)},
                      {"CodeSha256", stored.sha256_base64},
                      {"CodeSize", layer.code_size}};
  return Reply{201, reply};
}

Outcome LayerService::getLayerVersion(const std::string& layer_name, const std::string& version) {
  auto name = parseLayerName(layer_name);
  auto number = parseVersionNumber(version);
  if (!name || !number) return notFound();
  AWS_TRY(layer, registry_.layerVersion(*name, *number));
  if (!layer || layer->deleted) return notFound();
  json reply = versionDocument(*layer);
  reply["Content"] = {{"Location", location(layer->code_sha256)},
                      {"CodeSha256", base64Encode(fromHex(layer->code_sha256).value_or(""))},
                      {"CodeSize", layer->code_size}};
  return Reply{200, reply};
}

Outcome LayerService::getLayerVersionByArn(const std::string& arn) {
  auto parsed = parseLayerVersionArn(arn);
  if (!parsed)
    return api::validationError(arn, "arn",
                                "Member must satisfy regular expression pattern: "
                                "arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:"
                                "[a-zA-Z0-9-_]+:[0-9]+");
  if (arn != layerArn(parsed->name) + ":" + std::to_string(parsed->version)) return notFound();
  return getLayerVersion(parsed->name, std::to_string(parsed->version));
}

Outcome LayerService::listLayers(const std::string& runtime, const std::string& architecture,
                                 const std::string& marker, const std::string& max_items) {
  AWS_TRY(limit, parseMaxItems(max_items, 50));
  AWS_TRY(all, registry_.allLayerVersions());  // by name, newest first
  json layers = json::array();
  std::string last_name;
  std::optional<std::string> next_marker;
  for (const auto& layer : all) {
    if (layer.deleted || layer.name == last_name || layer.name <= marker) continue;
    if (!matchesFilters(layer, runtime, architecture)) continue;
    if (static_cast<int64_t>(layers.size()) == limit) {
      next_marker = last_name;
      break;
    }
    last_name = layer.name;
    layers.push_back({{"LayerName", layer.name},
                      {"LayerArn", layerArn(layer.name)},
                      {"LatestMatchingVersion", versionDocument(layer)}});
  }
  json reply = {{"Layers", layers}};
  if (next_marker) reply["NextMarker"] = *next_marker;
  return Reply{200, reply};
}

Outcome LayerService::listLayerVersions(const std::string& layer_name, const std::string& runtime,
                                        const std::string& architecture, const std::string& marker,
                                        const std::string& max_items) {
  auto name = parseLayerName(layer_name);
  if (!name)
    return api::validationError(layer_name, "layerName",
                                "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+");
  AWS_TRY(limit, parseMaxItems(max_items, 50));
  AWS_TRY(versions, registry_.layerVersions(*name));  // newest first
  const int64_t after = marker.empty() ? INT64_MAX : parseVersionNumber(marker).value_or(0);
  json list = json::array();
  std::optional<int64_t> next_marker;
  for (const auto& layer : versions) {
    if (layer.deleted || layer.version >= after) continue;
    if (!matchesFilters(layer, runtime, architecture)) continue;
    if (static_cast<int64_t>(list.size()) == limit) {
      next_marker = list.back()["Version"].get<int64_t>();
      break;
    }
    list.push_back(versionDocument(layer));
  }
  json reply = {{"LayerVersions", list}};
  if (next_marker) reply["NextMarker"] = std::to_string(*next_marker);
  return Reply{200, reply};
}

Outcome LayerService::deleteLayerVersion(const std::string& layer_name,
                                         const std::string& version) {
  auto name = parseLayerName(layer_name);
  auto number = parseVersionNumber(version);
  // Deleting what does not exist succeeds, as on Lambda.
  if (!name || !number) return Reply{204, std::nullopt};
  std::lock_guard lock(mutex_);
  AWS_TRY(layer, registry_.layerVersion(*name, *number));
  if (!layer || layer->deleted) return Reply{204, std::nullopt};
  AWS_CHECK(registry_.markLayerVersionDeleted(*name, *number));
  layer->deleted = true;
  collect(*layer);
  return Reply{204, std::nullopt};
}

std::variant<json, AwsError> LayerService::resolve(const json& arns) {
  if (!arns.is_array()) return api::invalidParameter("Layers must be a list of layer version ARNs");
  if (arns.size() > 5)
    return api::validationError(arns.dump(), "layers",
                                "Member must have length less than or equal to 5");
  json resolved = json::array();
  for (const auto& item : arns) {
    const std::string arn = item.is_string() ? item.get<std::string>() : item.dump();
    auto parsed = parseLayerVersionArn(arn);
    // Another region's or account's layer is not ours to give.
    if (parsed && arn != layerArn(parsed->name) + ":" + std::to_string(parsed->version))
      return api::invalidParameter("Layer version " + arn + " does not exist.");
    if (!parsed)
      return api::validationError(arn, "layers",
                                  "Member must satisfy constraint: [Member must satisfy regular "
                                  "expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:"
                                  "\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+]");
    AWS_TRY(layer, registry_.layerVersion(parsed->name, parsed->version));
    if (!layer || layer->deleted)
      return api::invalidParameter("Layer version " + arn + " does not exist.");
    for (const auto& earlier : resolved)
      if (parseLayerVersionArn(earlier["Arn"].get<std::string>())->name == parsed->name)
        return api::invalidParameter(
            "Two different versions of the same layer are not allowed to be referenced in the "
            "same function. " +
            earlier["Arn"].get<std::string>() + " and " + arn + " are versions of the same layer.");
    resolved.push_back({{"Arn", arn},
                        {"Sha256", layer->code_sha256},
                        {"CodeSize", layer->code_size},
                        {"UnpackedSize", layer->unpacked_size}});
  }
  return resolved;
}

void LayerService::release(const json& layers) {
  std::lock_guard lock(mutex_);
  for (const auto& item : layers) {
    auto parsed = parseLayerVersionArn(item.value("Arn", ""));
    if (!parsed) continue;
    auto layer = registry_.layerVersion(parsed->name, parsed->version);
    if (layer && *layer && (*layer)->deleted) collect(**layer);
  }
}

void LayerService::collect(const LayerVersionRecord& layer) {
  // The content goes when no function uses this deleted version and no other
  // version (listed, or deleted but used) shares its zip.
  auto all = registry_.allLayerVersions();
  if (!all) return;
  for (const auto& other : *all) {
    if (other.code_sha256 != layer.code_sha256) continue;
    const std::string arn = layerArn(other.name) + ":" + std::to_string(other.version);
    if (!other.deleted) return;
    auto users = registry_.functionsUsingLayer(arn);
    if (!users || *users > 0) return;
  }
  (void)content_.remove(layer.code_sha256);
}

}  // namespace wick::functions
