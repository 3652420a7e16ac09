#include "host/registry/function_config.h"

#include <functional>

namespace wick::registry {

using nlohmann::json;

namespace {

Error wrongType(const std::string& field, const json& value, const char* expected) {
  return Error("field " + field + ": " + value.dump() + " is not " + expected, EINVAL);
}

Result<std::string> stringOf(const std::string& field, const json& value) {
  if (!value.is_string()) return wrongType(field, value, "a string");
  return value.get<std::string>();
}

Result<int64_t> integerOf(const std::string& field, const json& value) {
  if (!value.is_number_integer()) return wrongType(field, value, "an integer");
  return value.get<int64_t>();
}

Result<std::vector<std::string>> stringsOf(const std::string& field, const json& value) {
  if (!value.is_array()) return wrongType(field, value, "a list of strings");
  std::vector<std::string> strings;
  for (const auto& item : value) {
    if (!item.is_string()) return wrongType(field, value, "a list of strings");
    strings.push_back(item.get<std::string>());
  }
  return strings;
}

// {"Key": value} with exactly the one key `key` (Mode, Size, Variables).
Result<json> onlyMember(const std::string& field, const json& value, const std::string& key) {
  if (!value.is_object() || value.size() != 1 || !value.contains(key))
    return wrongType(field, value, ("an object with only " + key).c_str());
  return value.at(key);
}

Status parseImageConfig(const json& value, FunctionConfig& config) {
  if (!value.is_object()) return wrongType("ImageConfig", value, "an object");
  ImageConfig image;
  for (const auto& [key, member] : value.items()) {
    const std::string field = "ImageConfig." + key;
    if (key == "EntryPoint" || key == "Command") {
      auto strings = stringsOf(field, member);
      if (!strings) return std::move(strings).error();
      (key == "EntryPoint" ? image.entry_point : image.command) = std::move(*strings);
    } else if (key == "WorkingDirectory") {
      auto text = stringOf(field, member);
      if (!text) return std::move(text).error();
      image.working_directory = std::move(*text);
    } else {
      return Error("unknown field " + field, EINVAL);
    }
  }
  config.image_config = std::move(image);
  return {};
}

Status parseEnvironment(const json& value, FunctionConfig& config) {
  auto variables = onlyMember("Environment", value, "Variables");
  if (!variables) return std::move(variables).error();
  if (!variables->is_object()) return wrongType("Environment.Variables", *variables, "a map");
  for (const auto& [key, member] : variables->items()) {
    auto text = stringOf("Environment.Variables." + key, member);
    if (!text) return std::move(text).error();
    config.environment[key] = std::move(*text);
  }
  return {};
}

// One parser per stored field; a field not here is refused.
using FieldParser = std::function<Status(const json&, FunctionConfig&)>;

template <typename T, typename Parse>
FieldParser into(const char* field, Parse parse, T FunctionConfig::*member) {
  return [field, parse, member](const json& value, FunctionConfig& config) -> Status {
    auto parsed = parse(field, value);
    if (!parsed) return std::move(parsed).error();
    config.*member = std::move(*parsed);
    return {};
  };
}

const std::map<std::string, FieldParser>& fieldParsers() {
  static const std::map<std::string, FieldParser> parsers = {
      {"Description", into("Description", stringOf, &FunctionConfig::description)},
      {"Timeout", into("Timeout", integerOf, &FunctionConfig::timeout_s)},
      {"MemorySize", into("MemorySize", integerOf, &FunctionConfig::memory_mb)},
      {"Role", into("Role", stringOf, &FunctionConfig::role)},
      {"Runtime", into("Runtime", stringOf, &FunctionConfig::runtime)},
      {"Handler", into("Handler", stringOf, &FunctionConfig::handler)},
      {"EphemeralStorage",
       [](const json& value, FunctionConfig& config) -> Status {
         auto size = onlyMember("EphemeralStorage", value, "Size");
         if (!size) return std::move(size).error();
         auto mb = integerOf("EphemeralStorage.Size", *size);
         if (!mb) return std::move(mb).error();
         config.ephemeral_storage_mb = *mb;
         return {};
       }},
      {"PackageType",
       [](const json& value, FunctionConfig& config) -> Status {
         if (value == "Zip" || value == "Image") {
           config.package_type = value == "Image" ? PackageType::kImage : PackageType::kZip;
           return {};
         }
         return wrongType("PackageType", value, "Zip or Image");
       }},
      {"Architectures",
       [](const json& value, FunctionConfig& config) -> Status {
         auto list = stringsOf("Architectures", value);
         if (!list) return std::move(list).error();
         if (list->size() != 1) return wrongType("Architectures", value, "one architecture");
         config.architecture = list->front();
         return {};
       }},
      {"TracingConfig",
       [](const json& value, FunctionConfig& config) -> Status {
         auto mode = onlyMember("TracingConfig", value, "Mode");
         if (!mode) return std::move(mode).error();
         auto text = stringOf("TracingConfig.Mode", *mode);
         if (!text) return std::move(text).error();
         config.tracing_mode = std::move(*text);
         return {};
       }},
      {"Environment", parseEnvironment},
      {"ImageConfig", parseImageConfig},
      {"DeadLetterConfig",
       [](const json& value, FunctionConfig& config) -> Status {
         config.dead_letter_config = value;
         return {};
       }},
      {"VpcConfig",
       [](const json& value, FunctionConfig& config) -> Status {
         if (!value.is_object()) return Error("VpcConfig must be an object", EINVAL);
         config.vpc_config = value;
         return {};
       }},
      {"KMSKeyArn",
       [](const json& value, FunctionConfig& config) -> Status {
         config.kms_key_arn = value;
         return {};
       }},
  };
  return parsers;
}

json imageConfigJson(const ImageConfig& image) {
  json shown = json::object();
  if (image.entry_point) shown["EntryPoint"] = *image.entry_point;
  if (image.command) shown["Command"] = *image.command;
  if (image.working_directory) shown["WorkingDirectory"] = *image.working_directory;
  return shown;
}

}  // namespace

Result<FunctionConfig> FunctionConfig::fromJson(const json& settings) {
  if (!settings.is_object()) return wrongType("settings", settings, "an object");
  FunctionConfig config;
  const auto& parsers = fieldParsers();
  for (const auto& [key, value] : settings.items()) {
    auto parser = parsers.find(key);
    if (parser == parsers.end()) return Error("unknown field " + key, EINVAL);
    WICK_TRY(parser->second(value, config), "settings");
  }
  return config;
}

json FunctionConfig::toJson() const {
  json settings = {{"Description", description},
                   {"Timeout", timeout_s},
                   {"MemorySize", memory_mb},
                   {"EphemeralStorage", {{"Size", ephemeral_storage_mb}}},
                   {"Architectures", json::array({architecture})},
                   {"PackageType", isImage() ? "Image" : "Zip"},
                   {"TracingConfig", {{"Mode", tracing_mode}}}};
  if (role) settings["Role"] = *role;
  if (runtime) settings["Runtime"] = *runtime;
  if (handler) settings["Handler"] = *handler;
  if (!environment.empty()) settings["Environment"] = {{"Variables", environment}};
  if (image_config) settings["ImageConfig"] = imageConfigJson(*image_config);
  if (dead_letter_config) settings["DeadLetterConfig"] = *dead_letter_config;
  if (kms_key_arn) settings["KMSKeyArn"] = *kms_key_arn;
  if (vpc_config) settings["VpcConfig"] = *vpc_config;
  return settings;
}

}  // namespace wick::registry
