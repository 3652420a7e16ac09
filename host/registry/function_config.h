// A function's configuration as typed fields: what the user set through
// CreateFunction / UpdateFunctionConfiguration, parsed and checked where a
// record leaves the registry, so nothing past the registry reads JSON with a
// default of its own (Firecracker's vmm_config/machine_config.rs is the model).
// The control plane's field checks (functions/validation.h) work on the JSON
// form and end in FunctionConfig::fromJson, so an update that parses is whole.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace wick::registry {

enum class PackageType { kZip, kImage };

// Lambda's ImageConfig: a field that is present overrides the image's.
struct ImageConfig {
  std::optional<std::vector<std::string>> entry_point;
  std::optional<std::vector<std::string>> command;
  std::optional<std::string> working_directory;
  bool operator==(const ImageConfig&) const = default;
};

struct FunctionConfig {
  std::string description;
  int64_t timeout_s = 3;
  int64_t memory_mb = 128;
  int64_t ephemeral_storage_mb = 512;  // the /tmp tmpfs
  PackageType package_type = PackageType::kZip;
  std::string architecture = "x86_64";
  std::string tracing_mode = "PassThrough";
  std::optional<std::string> role;
  std::optional<std::string> runtime;  // Zip functions only
  std::optional<std::string> handler;
  std::map<std::string, std::string> environment;  // Environment.Variables
  std::optional<ImageConfig> image_config;         // Image functions only
  // {"TargetArn": ...}: where a failed async event goes (host/destinations/).
  std::optional<nlohmann::json> dead_letter_config;
  // Accepted and shown back, not acted on (no KMS here).
  std::optional<nlohmann::json> kms_key_arn;
  // {"SubnetIds": [...], "SecurityGroupIds": [...]}: selects one of the
  // operator's named networks (host/network/); checked by the control plane.
  std::optional<nlohmann::json> vpc_config;

  bool isImage() const { return package_type == PackageType::kImage; }
  bool operator==(const FunctionConfig&) const = default;

  // The stored (and API) form: {"Timeout": 3, "MemorySize": 128, ...}.
  // Unknown fields and fields of the wrong type are refused, naming the field.
  static Result<FunctionConfig> fromJson(const nlohmann::json& settings);
  nlohmann::json toJson() const;
};

}  // namespace wick::registry
