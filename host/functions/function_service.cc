#include "host/functions/function_service.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/encoding.h"
#include "common/ids.h"
#include "host/api/aws_try.h"
#include "host/functions/request.h"
#include "host/functions/validation.h"
#include "host/runtimes/catalog.h"

namespace wick::functions {

using api::AwsError;
using nlohmann::json;
using registry::FunctionRecord;

namespace {

std::string lastModifiedNow() {
  return utcNowMillis("+0000");
}  // as LastModified reads

std::string hexToBase64(const std::string& hex) {
  return base64Encode(fromHex(hex).value_or(""));
}

bool isImage(const FunctionRecord& record) {
  return record.config.isImage();
}

Reply ok(json body, int status = 200) {
  return Reply{status, std::move(body)};
}
Reply noContent() {
  return Reply{204, std::nullopt};
}

// The update is applied before we answer; the reply shows the transition
// Lambda reports, so the function_updated waiters behave as on AWS.
json updateInProgress(json config) {
  config["LastUpdateStatus"] = "InProgress";
  config["LastUpdateStatusReason"] = "The function is being created.";
  config["LastUpdateStatusReasonCode"] = "Creating";
  return config;
}

}  // namespace

std::optional<AwsError> FunctionService::checkVpcConfig(
    const registry::FunctionConfig& config) const {
  if (!config.vpc_config) return std::nullopt;
  if (!settings_.vpc_check)
    return api::invalidParameter("VpcConfig is not supported: this host has no network for it");
  if (auto problem = settings_.vpc_check(*config.vpc_config))
    return api::invalidParameter(*problem);
  return std::nullopt;
}

json FunctionService::configuration(const FunctionRecord& record) const {
  json config = record.config.toJson();
  config["FunctionName"] = record.name;
  config["FunctionArn"] =
      functionArn(settings_.scope, record.name, record.version == "$LATEST" ? "" : record.version);
  config["CodeSize"] = record.code_size;
  // An image's CodeSha256 is its digest in hex; a zip's the base64 of its sha256.
  config["CodeSha256"] = isImage(record) ? record.code_sha256 : hexToBase64(record.code_sha256);
  config["Version"] = record.version;
  config["LastModified"] = record.last_modified;
  config["RevisionId"] = record.revision_id;
  config["State"] = record.state;
  if (!record.state_reason.empty()) config["StateReason"] = record.state_reason;
  if (!record.state_reason_code.empty()) config["StateReasonCode"] = record.state_reason_code;
  config["LastUpdateStatus"] = record.last_update_status;
  config["SnapStart"] = {{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}};
  config["LoggingConfig"] = {{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + record.name}};
  const json layers = record.internal.value("Layers", json::array());
  if (!layers.empty()) {
    json shown = json::array();
    for (const auto& layer : layers)
      shown.push_back({{"Arn", layer["Arn"]}, {"CodeSize", layer["CodeSize"]}});
    config["Layers"] = shown;
  }
  if (isImage(record)) {
    if (config.contains("ImageConfig")) {
      config["ImageConfigResponse"] = {{"ImageConfig", config["ImageConfig"]}};
      config.erase("ImageConfig");
    }
    return config;
  }
  const std::string runtime = record.config.runtime.value_or("");
  config["RuntimeVersionConfig"] = {
      {"RuntimeVersionArn",
       "arn:aws:lambda:" + settings_.scope.region + "::runtime:wick-" + runtime}};
  // A function whose base root is not built yet is Pending, as Lambda reports
  // a function that is not ready; one whose base failed to build is Failed.
  const runtimes::RuntimeInfo* info = runtimes::findRuntime(runtime);
  if (bases_ != nullptr && info != nullptr && record.state == "Active") {
    runtimes::BaseStatus base = bases_->status(info->base, true);
    if (base.state == runtimes::BaseState::kFailed) {
      config["State"] = "Failed";
      config["StateReason"] = "The " + info->base + " base root could not be built: " + base.reason;
      config["StateReasonCode"] = "InvalidRuntime";
    } else if (base.state != runtimes::BaseState::kReady) {
      config["State"] = "Pending";
      config["StateReason"] = "The function is being created.";
      config["StateReasonCode"] = "Creating";
    }
  }
  return config;
}

std::variant<FunctionRecord, AwsError> FunctionService::find(const std::string& function_name,
                                                             const std::string& qualifier) {
  auto parsed = parseFunctionName(function_name);
  if (!parsed) return invalidFunctionName(function_name);
  std::string effective = qualifier.empty() ? parsed->qualifier : qualifier;
  if (!qualifier.empty() && !parsed->qualifier.empty() && qualifier != parsed->qualifier)
    return qualifierMismatch();
  AWS_TRY(record, registry_.get(parsed->name));
  auto not_found = [&] {
    return api::resourceNotFound("Function not found: " +
                                 functionArn(settings_.scope, parsed->name, effective));
  };
  if (!record) return not_found();
  if (effective.empty() || effective == "$LATEST") return std::move(*record);
  std::string version = effective;
  if (effective.find_first_not_of("0123456789") != std::string::npos) {
    AWS_TRY(alias, registry_.alias(parsed->name, effective));
    if (!alias) return not_found();
    version = alias->function_version;
    if (version == "$LATEST") return std::move(*record);
  }
  if (version.size() > 15) return not_found();
  AWS_TRY(published, registry_.version(parsed->name, std::stoll(version)));
  if (!published) return not_found();
  // Reserved concurrency and tags belong to the function, not to a version.
  published->record.reserved_concurrency = record->reserved_concurrency;
  published->record.tags = record->tags;
  return std::move(published->record);
}

std::variant<StoredCode, AwsError> FunctionService::storeZip(const json& code) {
  if (!code.is_object()) return api::invalidParameter("Code must be an object");
  if (code.contains("S3Bucket") || code.contains("S3Key"))
    return api::invalidParameter("Code from S3 is not supported by wick: pass Code.ZipFile");
  if (code.contains("ImageUri"))
    return api::invalidParameter(
        "Please don't provide ImageUri when updating or creating a function with packageType Zip.");
  if (!code.contains("ZipFile") || !code["ZipFile"].is_string())
    return api::invalidParameter("Please provide a source for function code (Code.ZipFile).");
  return storeZipUpload(code_, code["ZipFile"].get<std::string>(), "Code.ZipFile",
                        settings_.max_zipped_bytes, settings_.max_unzipped_bytes);
}

std::optional<AwsError> FunctionService::resolveImage(const json& code, FunctionRecord& record) {
  if (!code.is_object()) return api::invalidParameter("Code must be an object");
  if (code.contains("ZipFile") || code.contains("S3Bucket"))
    return api::invalidParameter(
        "Please provide ImageUri when updating or creating a function with packageType Image.");
  if (!code.contains("ImageUri") || !code["ImageUri"].is_string())
    return api::invalidParameter("Please provide a source for function code (Code.ImageUri).");
  if (images_ == nullptr) return api::serviceError("the image store is not available");
  const std::string uri = code["ImageUri"].get<std::string>();
  auto image = images_->inspect(uri);
  if (!image)
    return api::invalidParameter("Source image " + uri +
                                 " does not exist. Provide a valid source image (import it with "
                                 "`wick image import`): " +
                                 image.error().message());
  record.code_sha256 = image->digest.hex();
  record.code_size = 0;
  record.internal["ImageUri"] = uri;
  record.internal["ImageDigest"] = image->digest.str();
  record.internal["Image"] = json::parse(images::toJson(*image));
  record.internal["UnpackedSize"] = 0;
  return std::nullopt;
}

std::optional<AwsError> FunctionService::applyLayers(const json& request, FunctionRecord& record) {
  if (!request.contains("Layers")) return std::nullopt;
  AWS_TRY(resolved, layers_.resolve(request["Layers"]));
  record.internal["Layers"] = resolved;
  return std::nullopt;
}

std::optional<AwsError> FunctionService::checkTotalSize(const FunctionRecord& record) const {
  int64_t total = record.internal.value("UnpackedSize", int64_t{0});
  for (const auto& layer : record.internal.value("Layers", json::array()))
    total += layer.value("UnpackedSize", int64_t{0});
  if (total <= static_cast<int64_t>(settings_.max_unzipped_bytes)) return std::nullopt;
  return api::invalidParameter(
      "Function code combined with layers exceeds the maximum allowed size of " +
      std::to_string(settings_.max_unzipped_bytes) + " bytes. The actual size is " +
      std::to_string(total) + " bytes.");
}

void FunctionService::releaseCode(const std::string& sha256_hex) {
  auto users = registry_.functionsUsingCode(sha256_hex);
  if (users && *users == 0) (void)code_.remove(sha256_hex);
}

void FunctionService::release(const FunctionRecord& record) {
  if (!isImage(record)) releaseCode(record.code_sha256);
  layers_.release(record.internal.value("Layers", json::array()));
}

void FunctionService::invalidate(const std::string& name) {
  std::lock_guard lock(cache_mutex_);
  const std::string prefix = name + "\n";
  for (auto it = cache_.lower_bound(prefix); it != cache_.end() && it->first.starts_with(prefix);)
    it = cache_.erase(it);
  reserved_total_.reset();
  ++generation_;
}

Result<images::References> FunctionService::imageReferences() {
  images::References references;
  auto digests = registry_.imageDigestsInUse();
  if (!digests) return std::move(digests).error().context("images that functions use");
  for (const auto& text : *digests) {
    auto digest = images::Digest::parse(text);
    if (!digest) return std::move(digest).error().context("a function's image digest");
    references.images.insert(*digest);
  }
  return references;
}

std::optional<FunctionService::Cached> FunctionService::cached(const std::string& function_name,
                                                               const std::string& qualifier) {
  auto parsed = parseFunctionName(function_name);
  if (!parsed) return std::nullopt;
  const std::string& effective = qualifier.empty() ? parsed->qualifier : qualifier;
  std::lock_guard lock(cache_mutex_);
  auto it = cache_.find(parsed->name + "\n" + effective);
  if (it == cache_.end() || !reserved_total_) return std::nullopt;
  Cached found = it->second;
  found.reserved_total = *reserved_total_;
  return found;
}

std::variant<FunctionService::Cached, api::AwsError> FunctionService::resolve(
    const std::string& function_name, const std::string& qualifier) {
  uint64_t generation;
  {
    std::lock_guard lock(cache_mutex_);
    generation = generation_;
  }
  AWS_TRY(record, find(function_name, qualifier));
  Cached resolved;
  resolved.record = std::make_shared<const FunctionRecord>(std::move(record));
  const std::string name = resolved.record->name;
  std::string effective = qualifier;
  if (effective.empty()) effective = parseFunctionName(function_name)->qualifier;
  resolved.invoked_arn = functionArn(settings_.scope, name, effective);
  // A weighted alias: its other version and that version's share.
  if (!effective.empty() && effective.find_first_not_of("0123456789") != std::string::npos &&
      effective != "$LATEST") {
    AWS_TRY(alias, registry_.alias(name, effective));
    const json weights =
        alias ? alias->routing.value("AdditionalVersionWeights", json::object()) : json::object();
    for (const auto& [version, weight] : weights.items()) {
      AWS_TRY(other, registry_.version(name, std::stoll(version)));
      if (!other) continue;
      other->record.reserved_concurrency = resolved.record->reserved_concurrency;
      resolved.additional = std::make_shared<const FunctionRecord>(std::move(other->record));
      resolved.additional_weight = weight.get<double>();
    }
  }
  AWS_TRY(reserved, registry_.reservedConcurrencyExcept(""));
  resolved.reserved_total = reserved;
  std::lock_guard lock(cache_mutex_);
  // Cache only if no mutation happened since we started reading: a stale
  // record must never outlive the change that replaced it.
  if (generation == generation_) {
    cache_[name + "\n" + effective] = resolved;
    reserved_total_ = reserved;
  }
  return resolved;
}

Outcome FunctionService::createFunction(const std::string& body) {
  AWS_TRY(request, parseJsonBody(body));
  if (!request.contains("FunctionName") || !request["FunctionName"].is_string())
    return api::validationError("null", "functionName", "Member must not be null");
  auto name = parseFunctionName(request["FunctionName"].get<std::string>());
  if (!name || !name->qualifier.empty())
    return api::validationError(request["FunctionName"].dump(), "functionName",
                                "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+");
  FunctionRecord record;
  record.name = name->name;
  AWS_TRY(config, updatedConfig({}, request, true));
  record.config = std::move(config);
  AWS_CHECK(checkVpcConfig(record.config));
  if (!request.contains("Code"))
    return api::validationError("null", "code", "Member must not be null");

  std::lock_guard lock(mutex_);
  AWS_TRY(existing, registry_.get(record.name));
  if (existing) return api::resourceConflict("Function already exist: " + record.name);
  AWS_CHECK(applyLayers(request, record));
  if (isImage(record)) {
    AWS_CHECK(resolveImage(request["Code"], record));
  } else {
    AWS_TRY(stored, storeZip(request["Code"]));
    record.code_sha256 = stored.sha256_hex;
    record.code_size = stored.size;
    record.internal["UnpackedSize"] = stored.unpacked_size;
  }
  if (auto error = checkTotalSize(record)) {
    release(record);
    return *error;
  }
  record.revision_id = newUuid();
  record.last_modified = lastModifiedNow();
  if (request.contains("Tags") && request["Tags"].is_object()) record.tags = request["Tags"];
  AWS_TRY(inserted, registry_.insert(record));
  invalidate(record.name);
  if (!inserted) return api::resourceConflict("Function already exist: " + record.name);
  // Publish: version 1 too, and the reply is the version's.
  FunctionRecord shown = record;
  if (request.value("Publish", false)) {
    AWS_TRY(published, publish(record, record.config.description));
    shown = published;
  }
  // The code is unpacked before we answer; the reply shows the transition
  // Lambda reports (waiters then see Active, or Pending while a base builds).
  json reply = configuration(shown);
  reply["State"] = "Pending";
  reply["StateReason"] = "The function is being created.";
  reply["StateReasonCode"] = "Creating";
  return ok(reply, 201);
}

Outcome FunctionService::getFunction(const std::string& function_name,
                                     const std::string& qualifier) {
  AWS_TRY(record, find(function_name, qualifier));
  std::string location = settings_.code_url_base + "/" + record.code_sha256 + ".zip";
  if (settings_.presign_location) location = settings_.presign_location(location);
  json code = {{"RepositoryType", "S3"}, {"Location", location}};
  if (isImage(record)) {
    const std::string uri = record.internal.value("ImageUri", "");
    const std::string repository = uri.substr(0, uri.find_first_of(":@"));
    code = {{"RepositoryType", "ECR"},
            {"ImageUri", uri},
            {"ResolvedImageUri", repository + "@" + record.internal.value("ImageDigest", "")}};
  }
  json reply = {{"Configuration", configuration(record)}, {"Code", code}};
  if (!record.tags.empty()) reply["Tags"] = record.tags;
  if (record.reserved_concurrency)
    reply["Concurrency"] = {{"ReservedConcurrentExecutions", *record.reserved_concurrency}};
  return ok(reply);
}

Outcome FunctionService::getFunctionConfiguration(const std::string& function_name,
                                                  const std::string& qualifier) {
  AWS_TRY(record, find(function_name, qualifier));
  return ok(configuration(record));
}

Outcome FunctionService::listFunctions(const std::string& marker, const std::string& max_items,
                                       const std::string& function_version) {
  if (!function_version.empty() && function_version != "ALL")
    return api::validationError(function_version, "functionVersion",
                                "Member must satisfy enum value set: [ALL]");
  AWS_TRY(limit, parseMaxItems(max_items, 10000));
  AWS_TRY(records, registry_.list(marker, limit + 1));
  json functions = json::array();
  for (size_t i = 0; i < records.size() && static_cast<int64_t>(i) < limit; ++i) {
    json config = configuration(records[i]);
    // ListFunctions omits the state fields.
    for (const char* key : {"State", "StateReason", "StateReasonCode", "LastUpdateStatus"})
      config.erase(key);
    functions.push_back(std::move(config));
    // FunctionVersion=ALL: each function's published versions after it.
    if (function_version != "ALL") continue;
    AWS_TRY(versions, registry_.versions(records[i].name));
    for (const auto& version : versions) {
      json published = configuration(version.record);
      for (const char* key : {"State", "StateReason", "StateReasonCode", "LastUpdateStatus"})
        published.erase(key);
      functions.push_back(std::move(published));
    }
  }
  json reply = {{"Functions", functions}};
  if (static_cast<int64_t>(records.size()) > limit) reply["NextMarker"] = records[limit - 1].name;
  return ok(reply);
}

Outcome FunctionService::deleteFunction(const std::string& function_name,
                                        const std::string& qualifier) {
  std::lock_guard lock(mutex_);
  auto parsed = parseFunctionName(function_name);
  if (parsed && !qualifier.empty() && !parsed->qualifier.empty() && qualifier != parsed->qualifier)
    return qualifierMismatch();
  const std::string effective = qualifier.empty() && parsed ? parsed->qualifier : qualifier;
  AWS_TRY(record, find(parsed ? parsed->name : function_name, "$LATEST"));
  if (effective == "$LATEST")
    return api::invalidParameter(
        "$LATEST version cannot be deleted without deleting the function.");
  if (!effective.empty()) {
    if (effective.find_first_not_of("0123456789") != std::string::npos)
      return api::invalidParameter(
          "Deletion of aliases is not supported by DeleteFunction: use DeleteAlias");
    if (effective.size() > 15)
      return api::resourceNotFound("Function not found: " +
                                   functionArn(settings_.scope, record.name, effective));
    AWS_TRY(version, registry_.version(record.name, std::stoll(effective)));
    if (!version)
      return api::resourceNotFound("Function not found: " +
                                   functionArn(settings_.scope, record.name, effective));
    AWS_TRY(aliases, registry_.aliases(record.name));
    std::string users;
    for (const auto& alias : aliases)
      if (alias.function_version == effective ||
          alias.routing.value("AdditionalVersionWeights", json::object()).contains(effective))
        users += (users.empty() ? "" : ", ") + alias.name;
    if (!users.empty())
      return api::resourceConflict(
          "Unable to delete version because the following aliases reference it: [" + users + "]");
    AWS_CHECK(registry_.removeVersion(record.name, version->number));
    invalidate(record.name);
    release(version->record);
    return noContent();
  }
  AWS_TRY(versions, registry_.versions(record.name));
  AWS_CHECK(registry_.removeVersionsAndAliases(record.name));
  AWS_CHECK(registry_.remove(record.name));
  invalidate(record.name);
  release(record);
  for (const auto& version : versions)
    release(version.record);
  return noContent();
}

Outcome FunctionService::updateFunctionCode(const std::string& function_name,
                                            const std::string& body) {
  AWS_TRY(request, parseJsonBody(body));
  std::lock_guard lock(mutex_);
  AWS_TRY(record, find(function_name, "$LATEST"));
  AWS_CHECK(checkRevisionId(request, record.revision_id));
  // Architectures travel with the code; checked before the code is stored.
  std::optional<registry::FunctionConfig> with_architecture;
  if (request.contains("Architectures")) {
    AWS_TRY(config,
            updatedConfig(record.config, {{"Architectures", request["Architectures"]}}, false));
    with_architecture = std::move(config);
  }
  json code = request;
  for (const char* key : {"Publish", "DryRun", "RevisionId", "Architectures"})
    code.erase(key);
  FunctionRecord updated = record;
  if (isImage(record)) {
    AWS_CHECK(resolveImage(code, updated));
  } else {
    AWS_TRY(stored, storeZip(code));
    updated.code_sha256 = stored.sha256_hex;
    updated.code_size = stored.size;
    // 0 when the same zip was unpacked before: keep what we knew.
    if (stored.unpacked_size > 0 || updated.code_sha256 != record.code_sha256)
      updated.internal["UnpackedSize"] = stored.unpacked_size;
  }
  if (auto error = checkTotalSize(updated)) {
    if (!isImage(updated) && updated.code_sha256 != record.code_sha256)
      releaseCode(updated.code_sha256);
    return *error;
  }
  if (request.value("DryRun", false)) {
    if (!isImage(updated) && updated.code_sha256 != record.code_sha256)
      releaseCode(updated.code_sha256);
    return ok(configuration(record));
  }
  if (with_architecture) updated.config.architecture = with_architecture->architecture;
  updated.revision_id = newUuid();
  updated.last_modified = lastModifiedNow();
  AWS_CHECK(registry_.update(updated));
  invalidate(updated.name);
  if (!isImage(record) && record.code_sha256 != updated.code_sha256)
    releaseCode(record.code_sha256);
  if (request.value("Publish", false)) {
    AWS_TRY(published, publish(updated, ""));
    return ok(configuration(published));
  }
  return ok(updateInProgress(configuration(updated)));
}

Outcome FunctionService::updateFunctionConfiguration(const std::string& function_name,
                                                     const std::string& body) {
  AWS_TRY(request, parseJsonBody(body));
  std::lock_guard lock(mutex_);
  AWS_TRY(record, find(function_name, "$LATEST"));
  AWS_CHECK(checkRevisionId(request, record.revision_id));
  AWS_TRY(config, updatedConfig(record.config, request, false));
  record.config = std::move(config);
  AWS_CHECK(checkVpcConfig(record.config));
  const json previous_layers = record.internal.value("Layers", json::array());
  AWS_CHECK(applyLayers(request, record));
  AWS_CHECK(checkTotalSize(record));
  record.revision_id = newUuid();
  record.last_modified = lastModifiedNow();
  AWS_CHECK(registry_.update(record));
  invalidate(record.name);
  if (request.contains("Layers")) layers_.release(previous_layers);
  return ok(updateInProgress(configuration(record)));
}

Outcome FunctionService::putFunctionConcurrency(const std::string& function_name,
                                                const std::string& body) {
  AWS_TRY(request, parseJsonBody(body));
  if (!request.contains("ReservedConcurrentExecutions") ||
      !request["ReservedConcurrentExecutions"].is_number_integer())
    return api::validationError("null", "reservedConcurrentExecutions", "Member must not be null");
  int64_t reserved = request["ReservedConcurrentExecutions"].get<int64_t>();
  if (reserved < 0)
    return api::validationError(std::to_string(reserved), "reservedConcurrentExecutions",
                                "Member must have value greater than or equal to 0");
  std::lock_guard lock(mutex_);
  AWS_TRY(record, find(function_name, "$LATEST"));
  AWS_TRY(others, registry_.reservedConcurrencyExcept(record.name));
  if (settings_.account_concurrency - others - reserved < settings_.min_unreserved_concurrency)
    return api::invalidParameter(
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [" +
        std::to_string(settings_.min_unreserved_concurrency) + "].");
  record.reserved_concurrency = reserved;
  AWS_CHECK(registry_.update(record));
  invalidate(record.name);
  return ok({{"ReservedConcurrentExecutions", reserved}});
}

Outcome FunctionService::getFunctionConcurrency(const std::string& function_name) {
  AWS_TRY(record, find(function_name, "$LATEST"));
  if (!record.reserved_concurrency) return ok(json::object());
  return ok({{"ReservedConcurrentExecutions", *record.reserved_concurrency}});
}

Outcome FunctionService::deleteFunctionConcurrency(const std::string& function_name) {
  std::lock_guard lock(mutex_);
  AWS_TRY(record, find(function_name, "$LATEST"));
  record.reserved_concurrency.reset();
  AWS_CHECK(registry_.update(record));
  invalidate(record.name);
  return noContent();
}

Outcome FunctionService::getAccountSettings() {
  AWS_TRY(reserved, registry_.reservedConcurrencyExcept(""));
  AWS_TRY(count, registry_.count());
  AWS_TRY(code_size, registry_.totalCodeSize());
  return ok({{"AccountLimit",
              {{"TotalCodeSize", 80530636800LL},
               {"CodeSizeUnzipped", static_cast<int64_t>(settings_.max_unzipped_bytes)},
               {"CodeSizeZipped", static_cast<int64_t>(settings_.max_zipped_bytes)},
               {"ConcurrentExecutions", settings_.account_concurrency},
               {"UnreservedConcurrentExecutions", settings_.account_concurrency - reserved}}},
             {"AccountUsage", {{"TotalCodeSize", code_size}, {"FunctionCount", count}}}});
}

Outcome FunctionService::tagResource(const std::string& arn, const std::string& body) {
  AWS_TRY(request, parseJsonBody(body));
  if (!request.contains("Tags") || !request["Tags"].is_object())
    return api::validationError("null", "tags", "Member must not be null");
  std::lock_guard lock(mutex_);
  AWS_TRY(record, find(arn, "$LATEST"));
  for (const auto& [key, value] : request["Tags"].items()) {
    if (!value.is_string()) return api::invalidParameter("Tag values must be strings");
    record.tags[key] = value;
  }
  if (record.tags.size() > 50) return api::invalidParameter("A function can have at most 50 tags");
  AWS_CHECK(registry_.update(record));
  invalidate(record.name);
  return noContent();
}

Outcome FunctionService::listTags(const std::string& arn) {
  AWS_TRY(found, find(arn, "$LATEST"));
  return ok({{"Tags", found.tags}});
}

Outcome FunctionService::untagResource(const std::string& arn,
                                       const std::vector<std::string>& keys) {
  std::lock_guard lock(mutex_);
  AWS_TRY(record, find(arn, "$LATEST"));
  for (const auto& key : keys)
    record.tags.erase(key);
  AWS_CHECK(registry_.update(record));
  invalidate(record.name);
  return noContent();
}

}  // namespace wick::functions
