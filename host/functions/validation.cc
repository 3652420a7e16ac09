#include "host/functions/validation.h"

#include <regex>
#include <set>

#include "common/bounded_regex.h"
#include "host/runtimes/catalog.h"

namespace wick::functions {

using api::AwsError;
using api::invalidParameter;
using api::validationError;
using nlohmann::json;

namespace {

constexpr size_t kEnvironmentLimit = 4096;
// Set by the platform (../shared/reference/lambda-contract.md 3.1).
const std::set<std::string> kReservedVariables = {"_HANDLER",
                                                  "_X_AMZN_TRACE_ID",
                                                  "AWS_REGION",
                                                  "AWS_DEFAULT_REGION",
                                                  "AWS_EXECUTION_ENV",
                                                  "AWS_LAMBDA_FUNCTION_NAME",
                                                  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                                  "AWS_LAMBDA_FUNCTION_VERSION",
                                                  "AWS_LAMBDA_INITIALIZATION_TYPE",
                                                  "AWS_LAMBDA_LOG_GROUP_NAME",
                                                  "AWS_LAMBDA_LOG_STREAM_NAME",
                                                  "AWS_ACCESS_KEY_ID",
                                                  "AWS_SECRET_ACCESS_KEY",
                                                  "AWS_SESSION_TOKEN",
                                                  "AWS_LAMBDA_RUNTIME_API",
                                                  "LAMBDA_TASK_ROOT",
                                                  "LAMBDA_RUNTIME_DIR"};

std::optional<AwsError> checkInteger(const json& request, const char* key, const char* field,
                                     int64_t min, int64_t max, json& settings) {
  if (!request.contains(key)) return std::nullopt;
  const json& value = request[key];
  if (!value.is_number_integer())
    return validationError(value.dump(), field, "Member must be an integer");
  int64_t number = value.get<int64_t>();
  if (number < min)
    return validationError(
        std::to_string(number), field,
        "Member must have value greater than or equal to " + std::to_string(min));
  if (number > max)
    return validationError(std::to_string(number), field,
                           "Member must have value less than or equal to " + std::to_string(max));
  settings[key] = number;
  return std::nullopt;
}

std::optional<AwsError> checkString(const json& request, const char* key, const char* field,
                                    const std::regex* pattern, size_t max_length, json& settings) {
  if (!request.contains(key)) return std::nullopt;
  const json& value = request[key];
  if (!value.is_string()) return validationError(value.dump(), field, "Member must be a string");
  const std::string text = value.get<std::string>();
  if (text.size() > max_length)
    return validationError(
        text, field, "Member must have length less than or equal to " + std::to_string(max_length));
  if (pattern != nullptr && !boundedMatch(text, *pattern))
    return validationError(text, field, "Member must satisfy regular expression pattern");
  settings[key] = text;
  return std::nullopt;
}

std::optional<AwsError> checkEnvironment(const json& request, json& settings) {
  if (!request.contains("Environment")) return std::nullopt;
  const json& environment = request["Environment"];
  if (!environment.is_object()) return invalidParameter("Environment must be an object");
  json variables = environment.value("Variables", json::object());
  if (!variables.is_object()) return invalidParameter("Environment.Variables must be a map");
  static const std::regex key_pattern("[a-zA-Z]([a-zA-Z0-9_])+");
  std::vector<std::string> reserved;
  for (const auto& [key, value] : variables.items()) {
    if (!boundedMatch(key, key_pattern))
      return validationError(
          key, "environment.variables",
          "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+");
    if (!value.is_string())
      return invalidParameter("Environment variable " + key + " must be a string");
    if (kReservedVariables.count(key)) reserved.push_back(key);
  }
  if (!reserved.empty()) {
    std::string list;
    for (const auto& key : reserved)
      list += (list.empty() ? "" : ",") + key;
    return invalidParameter(
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported "
        "for modification. Reserved keys used in this request: " +
        list);
  }
  const std::string measured = variables.dump();
  if (measured.size() > kEnvironmentLimit)
    return invalidParameter(
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided exceeded the 4KB limit. String measured: " +
        measured);
  if (variables.empty())
    settings.erase("Environment");
  else
    settings["Environment"] = {{"Variables", variables}};
  return std::nullopt;
}

std::optional<AwsError> checkImageConfig(const json& config) {
  if (!config.is_object()) return invalidParameter("ImageConfig must be an object");
  for (const auto& [key, value] : config.items()) {
    if (key == "EntryPoint" || key == "Command") {
      const std::string field =
          key == "EntryPoint" ? "imageConfig.entryPoint" : "imageConfig.command";
      if (!value.is_array())
        return validationError(value.dump(), field, "Member must be a list of strings");
      if (value.size() > 1500)
        return validationError(value.dump(), field,
                               "Member must have length less than or equal to 1500");
      for (const auto& item : value)
        if (!item.is_string())
          return validationError(value.dump(), field, "Member must be a list of strings");
    } else if (key == "WorkingDirectory") {
      if (!value.is_string() || value.get<std::string>().size() > 1000)
        return validationError(value.dump(), "imageConfig.workingDirectory",
                               "Member must have length less than or equal to 1000");
    } else {
      return invalidParameter("ImageConfig has an unknown field: " + key);
    }
  }
  return std::nullopt;
}

}  // namespace

api::AwsError invalidFunctionName(const std::string& name) {
  return api::validationError(
      name, "functionName",
      "Member must satisfy regular expression pattern: "
      "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
      "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
}

api::AwsError qualifierMismatch() {
  return api::invalidParameter(
      "The derived qualifier from the function name does not match the specified qualifier.");
}

bool supportedRuntime(const std::string& runtime) {
  return runtimes::findRuntime(runtime) != nullptr;
}

// VpcConfig selects one of the operator's networks; empty lists detach, as on Lambda.
std::optional<AwsError> applyVpcConfig(const json& vpc, json& settings) {
  if (!vpc.is_object()) return invalidParameter("VpcConfig must be an object");
  json kept = json::object();
  for (const auto& [key, most] : {std::pair<const char*, size_t>{"SubnetIds", 16},
                                  std::pair<const char*, size_t>{"SecurityGroupIds", 5}}) {
    const json ids = vpc.value(key, json::array());
    if (!ids.is_array() || ids.size() > most)
      return invalidParameter(std::string("VpcConfig.") + key + " must be a list of at most " +
                              std::to_string(most) + " ids");
    for (const auto& id : ids)
      if (!id.is_string() || id.get<std::string>().empty() || id.get<std::string>().size() > 1024)
        return invalidParameter(std::string("VpcConfig.") + key + " holds an invalid id");
    kept[key] = ids;
  }
  if (kept["SubnetIds"].empty() && kept["SecurityGroupIds"].empty()) {
    settings.erase("VpcConfig");
    return std::nullopt;
  }
  if (kept["SubnetIds"].empty())
    return invalidParameter("VpcConfig.SubnetIds must name at least one subnet");
  settings["VpcConfig"] = kept;
  return std::nullopt;
}

std::optional<AwsError> applyConfiguration(const json& request, json& settings, bool creating) {
  if (creating) {
    settings = {{"Description", ""},
                {"Timeout", 3},
                {"MemorySize", 128},
                {"EphemeralStorage", {{"Size", 512}}},
                {"Architectures", {"x86_64"}},
                {"PackageType", "Zip"},
                {"TracingConfig", {{"Mode", "PassThrough"}}}};
  }
  static const std::regex role("arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  static const std::regex handler("[^\\s]+");
  if (auto error = checkString(request, "Role", "role", &role, 2048, settings)) return error;
  if (auto error = checkString(request, "Handler", "handler", &handler, 128, settings))
    return error;
  if (auto error = checkString(request, "Description", "description", nullptr, 256, settings))
    return error;
  if (auto error = checkInteger(request, "Timeout", "timeout", 1, 900, settings)) return error;
  if (auto error = checkInteger(request, "MemorySize", "memorySize", 128, 10240, settings))
    return error;
  if (auto error = checkEnvironment(request, settings)) return error;

  if (request.contains("Runtime")) {
    const json& runtime = request["Runtime"];
    if (!runtime.is_string())
      return validationError(runtime.dump(), "runtime", "Member must be a string");
    if (!supportedRuntime(runtime.get<std::string>())) {
      std::string supported;
      for (const auto& name : runtimes::runtimeNames())
        supported += (supported.empty() ? "" : ", ") + name;
      return invalidParameter("The runtime parameter of " + runtime.get<std::string>() +
                              " is not supported by this host. Supported runtimes: " + supported);
    }
    settings["Runtime"] = runtime;
  }
  if (request.contains("EphemeralStorage")) {
    json storage = json::object();
    const json& given = request["EphemeralStorage"];
    if (!given.is_object()) return invalidParameter("EphemeralStorage must be an object");
    if (auto error = checkInteger(given, "Size", "ephemeralStorage.size", 512, 10240, storage))
      return error;
    if (!storage.contains("Size")) return invalidParameter("EphemeralStorage.Size is required");
    settings["EphemeralStorage"] = storage;
  }
  if (request.contains("Architectures")) {
    const json& architectures = request["Architectures"];
    if (!architectures.is_array() || architectures.size() != 1 || !architectures[0].is_string())
      return validationError(architectures.dump(), "architectures",
                             "Member must have length less than or equal to 1");
    const std::string arch = architectures[0].get<std::string>();
    if (arch == "arm64")
      return invalidParameter("Architecture arm64 is not supported by this x86_64 host");
    if (arch != "x86_64")
      return validationError(arch, "architectures",
                             "Member must satisfy enum value set: [x86_64, arm64]");
    settings["Architectures"] = architectures;
  }
  if (request.contains("TracingConfig")) {
    // Checked before value(), which throws on a non-object (found by fuzz_lambda_json).
    const auto& tracing = request["TracingConfig"];
    const auto mode_field = tracing.is_object() ? tracing.find("Mode") : tracing.end();
    if (!tracing.is_object() ||
        (mode_field != tracing.end() && !mode_field->is_string() && !mode_field->is_null()))
      return api::AwsError{400, "InvalidParameterValueException",
                           "TracingConfig must be an object with a string Mode"};
    std::string mode = mode_field == tracing.end() || mode_field->is_null()
                           ? "PassThrough"
                           : mode_field->get<std::string>();
    if (mode != "Active" && mode != "PassThrough")
      return validationError(mode, "tracingConfig.mode",
                             "Member must satisfy enum value set: [Active, PassThrough]");
    settings["TracingConfig"] = {{"Mode", mode}};
  }
  // Layers are resolved by the service (they must exist); ImageConfig is
  // checked here and only kept for images (below).
  if (request.contains("ImageConfig")) {
    if (auto error = checkImageConfig(request["ImageConfig"])) return error;
    settings["ImageConfig"] = request["ImageConfig"];
    if (settings["ImageConfig"].empty()) settings.erase("ImageConfig");
  }
  // Which network the ids select is the service's to check (vpc_check).
  if (request.contains("VpcConfig"))
    if (auto error = applyVpcConfig(request["VpcConfig"], settings)) return error;
  if (request.contains("DeadLetterConfig"))
    settings["DeadLetterConfig"] = request["DeadLetterConfig"];
  if (request.contains("KMSKeyArn")) settings["KMSKeyArn"] = request["KMSKeyArn"];

  if (creating) {
    const json package_value = request.value("PackageType", json("Zip"));
    const std::string package = package_value.is_string() ? package_value.get<std::string>() : "";
    if (package != "Zip" && package != "Image")
      return validationError(package_value.dump(), "packageType",
                             "Member must satisfy enum value set: [Zip, Image]");
    settings["PackageType"] = package;
    if (package == "Zip" && !settings.contains("Runtime"))
      return invalidParameter("Runtime is required for a function of PackageType Zip");
    if (!settings.contains("Role"))
      return validationError("null", "role", "Member must not be null");
  }
  const bool image = settings.value("PackageType", "Zip") == "Image";
  if (image && settings.contains("Runtime"))
    return invalidParameter(
        "Runtime and Handler are not supported for a function of "
        "PackageType Image: the image's entrypoint starts it");
  if (!image && settings.contains("ImageConfig"))
    return invalidParameter("ImageConfig is only supported for a function of PackageType Image");
  if (settings.contains("Runtime")) {
    const auto* runtime = runtimes::findRuntime(settings["Runtime"].get<std::string>());
    if (runtime != nullptr && runtime->managed && !settings.contains("Handler"))
      return invalidParameter("Handler is required for a function of runtime " + runtime->name);
  }
  return std::nullopt;
}

std::variant<registry::FunctionConfig, AwsError> updatedConfig(
    const registry::FunctionConfig& current, const json& request, bool creating) {
  json settings = creating ? json::object() : current.toJson();
  if (auto error = applyConfiguration(request, settings, creating)) return *error;
  auto config = registry::FunctionConfig::fromJson(settings);
  // Every field was checked above: a settings object that does not parse is
  // a bug of ours, not the caller's.
  if (!config) return api::serviceError("configuration: " + config.error().message());
  return std::move(*config);
}

}  // namespace wick::functions
