#include "host/functions/function_service.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/encoding.h"
#include "common/ids.h"
#include "host/functions/validation.h"

namespace wick::functions {

using api::AwsError;
using nlohmann::json;
using registry::FunctionRecord;

namespace {

std::string lastModifiedNow() {
  return utcNowMillis("+0000");
}  // as LastModified reads

std::string hexToBase64(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return base64Encode(bytes);
}

std::variant<json, AwsError> parseJsonBody(const std::string& body) {
  if (body.empty()) return json::object();
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return api::invalidRequestContent("Could not parse request body into json");
  return parsed;
}

Reply ok(json body, int status = 200) {
  return Reply{status, std::move(body)};
}
Reply noContent() {
  return Reply{204, std::nullopt};
}

AwsError internal(const Error& error) {
  return api::serviceError(error.message());
}

// Optimistic locking: a RevisionId in the request must be the current one.
std::optional<AwsError> checkRevision(const json& request, const FunctionRecord& record) {
  if (!request.contains("RevisionId") || request["RevisionId"] == record.revision_id)
    return std::nullopt;
  return api::preconditionFailed(
      "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/"
      "GetAlias API to retrieve the latest Revision Id");
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

json FunctionService::configuration(const FunctionRecord& record) const {
  json config = record.settings;
  config["FunctionName"] = record.name;
  config["FunctionArn"] = functionArn(settings_.scope, record.name);
  config["CodeSize"] = record.code_size;
  config["CodeSha256"] = hexToBase64(record.code_sha256);
  config["Version"] = "$LATEST";
  config["LastModified"] = record.last_modified;
  config["RevisionId"] = record.revision_id;
  config["State"] = record.state;
  if (!record.state_reason.empty()) config["StateReason"] = record.state_reason;
  if (!record.state_reason_code.empty()) config["StateReasonCode"] = record.state_reason_code;
  config["LastUpdateStatus"] = record.last_update_status;
  config["SnapStart"] = {{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}};
  config["LoggingConfig"] = {{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + record.name}};
  config["RuntimeVersionConfig"] = {
      {"RuntimeVersionArn", "arn:aws:lambda:" + settings_.scope.region + "::runtime:wick-" +
                                config.value("Runtime", std::string("image"))}};
  return config;
}

std::variant<FunctionRecord, AwsError> FunctionService::find(const std::string& function_name,
                                                             const std::string& qualifier) {
  auto parsed = parseFunctionName(function_name);
  if (!parsed)
    return api::validationError(
        function_name, "functionName",
        "Member must satisfy regular expression pattern: "
        "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
        "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
  std::string effective = qualifier.empty() ? parsed->qualifier : qualifier;
  if (!qualifier.empty() && !parsed->qualifier.empty() && qualifier != parsed->qualifier)
    return api::invalidParameter(
        "The derived qualifier from the function name does not match the "
        "specified qualifier.");
  auto record = registry_.get(parsed->name);
  if (!record) return internal(record.error());
  // Versions and aliases come with published versions; only $LATEST exists.
  if (!*record || (!effective.empty() && effective != "$LATEST"))
    return api::resourceNotFound("Function not found: " +
                                 functionArn(settings_.scope, parsed->name, effective));
  return std::move(**record);
}

std::variant<StoredCode, AwsError> FunctionService::storeZip(const json& code) {
  if (!code.is_object()) return api::invalidParameter("Code must be an object");
  if (code.contains("S3Bucket") || code.contains("S3Key"))
    return api::invalidParameter("Code from S3 is not supported by wick: pass Code.ZipFile");
  if (code.contains("ImageUri"))
    return api::invalidParameter(
        "Code.ImageUri needs PackageType Image, not supported by this wick version yet");
  if (!code.contains("ZipFile") || !code["ZipFile"].is_string())
    return api::invalidParameter("Please provide a source for function code (Code.ZipFile).");
  auto zip = base64Decode(code["ZipFile"].get<std::string>());
  if (!zip) return api::invalidParameter("Code.ZipFile is not valid base64");
  if (zip->size() > settings_.max_zipped_bytes)
    return api::requestTooLarge("Zipped size must be smaller than " +
                                std::to_string(settings_.max_zipped_bytes) + " bytes");
  images::ExtractOptions options;
  options.max_unpacked_bytes = settings_.max_unzipped_bytes;
  auto stored = code_.put(*zip, options);
  if (!stored) {
    const Error& error = stored.error();
    if (error.errNo() == EFBIG)
      return api::invalidParameter("Unzipped size must be smaller than " +
                                   std::to_string(settings_.max_unzipped_bytes) + " bytes");
    // Every rejection of the archive itself is the caller's: name what was wrong.
    if (error.errNo() == EPERM || error.errNo() == EINVAL || error.errNo() == E2BIG)
      return api::invalidParameter("Could not unzip uploaded file. " + error.message());
    return internal(error);
  }
  return std::move(*stored);
}

void FunctionService::releaseCode(const std::string& sha256_hex) {
  auto users = registry_.functionsUsingCode(sha256_hex);
  if (users && *users == 0) (void)code_.remove(sha256_hex);
}

void FunctionService::invalidate(const std::string& name) {
  std::lock_guard lock(cache_mutex_);
  cache_.erase(name);
  reserved_total_.reset();
  ++generation_;
}

std::optional<FunctionService::Cached> FunctionService::cached(const std::string& function_name,
                                                               const std::string& qualifier) {
  auto parsed = parseFunctionName(function_name);
  if (!parsed) return std::nullopt;
  const std::string& effective = qualifier.empty() ? parsed->qualifier : qualifier;
  if (!effective.empty() && effective != "$LATEST") return std::nullopt;
  std::lock_guard lock(cache_mutex_);
  auto it = cache_.find(parsed->name);
  if (it == cache_.end() || !reserved_total_) return std::nullopt;
  return Cached{it->second, *reserved_total_};
}

std::variant<FunctionService::Cached, api::AwsError> FunctionService::resolve(
    const std::string& function_name, const std::string& qualifier) {
  uint64_t generation;
  {
    std::lock_guard lock(cache_mutex_);
    generation = generation_;
  }
  auto found = find(function_name, qualifier);
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  auto record = std::make_shared<const FunctionRecord>(std::move(std::get<FunctionRecord>(found)));
  auto reserved = registry_.reservedConcurrencyExcept("");
  if (!reserved) return internal(reserved.error());
  std::lock_guard lock(cache_mutex_);
  // Cache only if no mutation happened since we started reading: a stale
  // record must never outlive the change that replaced it.
  if (generation == generation_) {
    cache_[record->name] = record;
    reserved_total_ = *reserved;
  }
  return Cached{record, *reserved};
}

Outcome FunctionService::createFunction(const std::string& body) {
  auto parsed = parseJsonBody(body);
  if (auto* error = std::get_if<AwsError>(&parsed)) return *error;
  const json& request = std::get<json>(parsed);
  if (!request.contains("FunctionName") || !request["FunctionName"].is_string())
    return api::validationError("null", "functionName", "Member must not be null");
  auto name = parseFunctionName(request["FunctionName"].get<std::string>());
  if (!name || !name->qualifier.empty())
    return api::validationError(request["FunctionName"].dump(), "functionName",
                                "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+");
  if (request.value("Publish", false))
    return api::invalidParameter("Publish is not supported by this wick version yet (no versions)");
  FunctionRecord record;
  record.name = name->name;
  if (auto error = applyConfiguration(request, record.settings, true)) return *error;
  if (!request.contains("Code"))
    return api::validationError("null", "code", "Member must not be null");

  std::lock_guard lock(mutex_);
  auto existing = registry_.get(record.name);
  if (!existing) return internal(existing.error());
  if (*existing) return api::resourceConflict("Function already exist: " + record.name);
  auto code = storeZip(request["Code"]);
  if (auto* error = std::get_if<AwsError>(&code)) return *error;
  const StoredCode& stored = std::get<StoredCode>(code);
  record.code_sha256 = stored.sha256_hex;
  record.code_size = stored.size;
  record.revision_id = newUuid();
  record.last_modified = lastModifiedNow();
  if (request.contains("Tags") && request["Tags"].is_object()) record.tags = request["Tags"];
  auto inserted = registry_.insert(record);
  if (!inserted) return internal(inserted.error());
  invalidate(record.name);
  if (!*inserted) return api::resourceConflict("Function already exist: " + record.name);
  // The code is unpacked before we answer, so the function is already Active;
  // the reply shows the transition Lambda reports (waiters then see Active).
  json reply = configuration(record);
  reply["State"] = "Pending";
  reply["StateReason"] = "The function is being created.";
  reply["StateReasonCode"] = "Creating";
  return ok(reply, 201);
}

Outcome FunctionService::getFunction(const std::string& function_name,
                                     const std::string& qualifier) {
  auto found = find(function_name, qualifier);
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  const FunctionRecord& record = std::get<FunctionRecord>(found);
  json reply = {{"Configuration", configuration(record)},
                {"Code",
                 {{"RepositoryType", "S3"},
                  {"Location", settings_.code_url_base + "/" + record.code_sha256 + ".zip"}}}};
  if (!record.tags.empty()) reply["Tags"] = record.tags;
  if (record.reserved_concurrency)
    reply["Concurrency"] = {{"ReservedConcurrentExecutions", *record.reserved_concurrency}};
  return ok(reply);
}

Outcome FunctionService::getFunctionConfiguration(const std::string& function_name,
                                                  const std::string& qualifier) {
  auto found = find(function_name, qualifier);
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  return ok(configuration(std::get<FunctionRecord>(found)));
}

Outcome FunctionService::listFunctions(const std::string& marker, const std::string& max_items) {
  int64_t limit = 50;
  if (!max_items.empty()) {
    char* end = nullptr;
    limit = std::strtoll(max_items.c_str(), &end, 10);
    if (*end != '\0' || limit < 1 || limit > 10000)
      return api::validationError(max_items, "maxItems",
                                  "Member must have value between 1 and 10000");
  }
  auto records = registry_.list(marker, limit + 1);
  if (!records) return internal(records.error());
  json functions = json::array();
  for (size_t i = 0; i < records->size() && static_cast<int64_t>(i) < limit; ++i) {
    json config = configuration((*records)[i]);
    // ListFunctions omits the state fields.
    for (const char* key : {"State", "StateReason", "StateReasonCode", "LastUpdateStatus"})
      config.erase(key);
    functions.push_back(std::move(config));
  }
  json reply = {{"Functions", functions}};
  if (static_cast<int64_t>(records->size()) > limit)
    reply["NextMarker"] = (*records)[limit - 1].name;
  return ok(reply);
}

Outcome FunctionService::deleteFunction(const std::string& function_name,
                                        const std::string& qualifier) {
  std::lock_guard lock(mutex_);
  auto found = find(function_name, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  const FunctionRecord& record = std::get<FunctionRecord>(found);
  if (qualifier == "$LATEST")
    return api::invalidParameter(
        "$LATEST version cannot be deleted without deleting the function.");
  if (!qualifier.empty())
    return api::resourceNotFound("Function not found: " +
                                 functionArn(settings_.scope, record.name, qualifier));
  auto removed = registry_.remove(record.name);
  if (!removed) return internal(removed.error());
  invalidate(record.name);
  releaseCode(record.code_sha256);
  return noContent();
}

Outcome FunctionService::updateFunctionCode(const std::string& function_name,
                                            const std::string& body) {
  auto parsed = parseJsonBody(body);
  if (auto* error = std::get_if<AwsError>(&parsed)) return *error;
  const json& request = std::get<json>(parsed);
  std::lock_guard lock(mutex_);
  auto found = find(function_name, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  FunctionRecord record = std::get<FunctionRecord>(found);
  if (auto stale = checkRevision(request, record)) return *stale;
  if (request.value("Publish", false))
    return api::invalidParameter("Publish is not supported by this wick version yet (no versions)");
  if (request.contains("Architectures")) {
    json probe = record.settings;
    if (auto error =
            applyConfiguration({{"Architectures", request["Architectures"]}}, probe, false))
      return *error;
  }
  json code = request;
  code.erase("Publish");
  code.erase("DryRun");
  code.erase("RevisionId");
  code.erase("Architectures");
  auto stored = storeZip(code);
  if (auto* error = std::get_if<AwsError>(&stored)) return *error;
  if (request.value("DryRun", false)) return ok(configuration(record));
  const std::string previous = record.code_sha256;
  record.code_sha256 = std::get<StoredCode>(stored).sha256_hex;
  record.code_size = std::get<StoredCode>(stored).size;
  record.revision_id = newUuid();
  record.last_modified = lastModifiedNow();
  if (auto updated = registry_.update(record); !updated) return internal(updated.error());
  invalidate(record.name);
  if (previous != record.code_sha256) releaseCode(previous);
  return ok(updateInProgress(configuration(record)));
}

Outcome FunctionService::updateFunctionConfiguration(const std::string& function_name,
                                                     const std::string& body) {
  auto parsed = parseJsonBody(body);
  if (auto* error = std::get_if<AwsError>(&parsed)) return *error;
  const json& request = std::get<json>(parsed);
  std::lock_guard lock(mutex_);
  auto found = find(function_name, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  FunctionRecord record = std::get<FunctionRecord>(found);
  if (auto stale = checkRevision(request, record)) return *stale;
  if (auto error = applyConfiguration(request, record.settings, false)) return *error;
  record.revision_id = newUuid();
  record.last_modified = lastModifiedNow();
  if (auto updated = registry_.update(record); !updated) return internal(updated.error());
  invalidate(record.name);
  return ok(updateInProgress(configuration(record)));
}

Outcome FunctionService::putFunctionConcurrency(const std::string& function_name,
                                                const std::string& body) {
  auto parsed = parseJsonBody(body);
  if (auto* error = std::get_if<AwsError>(&parsed)) return *error;
  const json& request = std::get<json>(parsed);
  if (!request.contains("ReservedConcurrentExecutions") ||
      !request["ReservedConcurrentExecutions"].is_number_integer())
    return api::validationError("null", "reservedConcurrentExecutions", "Member must not be null");
  int64_t reserved = request["ReservedConcurrentExecutions"].get<int64_t>();
  if (reserved < 0)
    return api::validationError(std::to_string(reserved), "reservedConcurrentExecutions",
                                "Member must have value greater than or equal to 0");
  std::lock_guard lock(mutex_);
  auto found = find(function_name, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  FunctionRecord record = std::get<FunctionRecord>(found);
  auto others = registry_.reservedConcurrencyExcept(record.name);
  if (!others) return internal(others.error());
  if (settings_.account_concurrency - *others - reserved < settings_.min_unreserved_concurrency)
    return api::invalidParameter(
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [" +
        std::to_string(settings_.min_unreserved_concurrency) + "].");
  record.reserved_concurrency = reserved;
  if (auto updated = registry_.update(record); !updated) return internal(updated.error());
  invalidate(record.name);
  return ok({{"ReservedConcurrentExecutions", reserved}});
}

Outcome FunctionService::getFunctionConcurrency(const std::string& function_name) {
  auto found = find(function_name, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  const FunctionRecord& record = std::get<FunctionRecord>(found);
  if (!record.reserved_concurrency) return ok(json::object());
  return ok({{"ReservedConcurrentExecutions", *record.reserved_concurrency}});
}

Outcome FunctionService::deleteFunctionConcurrency(const std::string& function_name) {
  std::lock_guard lock(mutex_);
  auto found = find(function_name, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  FunctionRecord record = std::get<FunctionRecord>(found);
  record.reserved_concurrency.reset();
  if (auto updated = registry_.update(record); !updated) return internal(updated.error());
  invalidate(record.name);
  return noContent();
}

Outcome FunctionService::getAccountSettings() {
  auto reserved = registry_.reservedConcurrencyExcept("");
  auto count = registry_.count();
  auto code_size = registry_.totalCodeSize();
  if (!reserved) return internal(reserved.error());
  if (!count) return internal(count.error());
  if (!code_size) return internal(code_size.error());
  return ok({{"AccountLimit",
              {{"TotalCodeSize", 80530636800LL},
               {"CodeSizeUnzipped", static_cast<int64_t>(settings_.max_unzipped_bytes)},
               {"CodeSizeZipped", static_cast<int64_t>(settings_.max_zipped_bytes)},
               {"ConcurrentExecutions", settings_.account_concurrency},
               {"UnreservedConcurrentExecutions", settings_.account_concurrency - *reserved}}},
             {"AccountUsage", {{"TotalCodeSize", *code_size}, {"FunctionCount", *count}}}});
}

Outcome FunctionService::tagResource(const std::string& arn, const std::string& body) {
  auto parsed = parseJsonBody(body);
  if (auto* error = std::get_if<AwsError>(&parsed)) return *error;
  const json& request = std::get<json>(parsed);
  if (!request.contains("Tags") || !request["Tags"].is_object())
    return api::validationError("null", "tags", "Member must not be null");
  std::lock_guard lock(mutex_);
  auto found = find(arn, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  FunctionRecord record = std::get<FunctionRecord>(found);
  for (const auto& [key, value] : request["Tags"].items()) {
    if (!value.is_string()) return api::invalidParameter("Tag values must be strings");
    record.tags[key] = value;
  }
  if (record.tags.size() > 50) return api::invalidParameter("A function can have at most 50 tags");
  if (auto updated = registry_.update(record); !updated) return internal(updated.error());
  invalidate(record.name);
  return noContent();
}

Outcome FunctionService::listTags(const std::string& arn) {
  auto found = find(arn, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  return ok({{"Tags", std::get<FunctionRecord>(found).tags}});
}

Outcome FunctionService::untagResource(const std::string& arn,
                                       const std::vector<std::string>& keys) {
  std::lock_guard lock(mutex_);
  auto found = find(arn, "");
  if (auto* error = std::get_if<AwsError>(&found)) return *error;
  FunctionRecord record = std::get<FunctionRecord>(found);
  for (const auto& key : keys)
    record.tags.erase(key);
  if (auto updated = registry_.update(record); !updated) return internal(updated.error());
  invalidate(record.name);
  return noContent();
}

}  // namespace wick::functions
