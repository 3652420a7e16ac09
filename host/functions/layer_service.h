// Lambda layers (lambda-contract.md 4.5): zips published as numbered,
// immutable versions, unpacked once under opt/ so that a function's layers
// stack as overlay layers of its root, later layers winning. A deleted
// version is no longer listed nor attachable, but the functions that use it
// keep it until they let go.
#pragma once

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "host/functions/code_store.h"
#include "host/functions/function_name.h"
#include "host/functions/outcome.h"
#include "host/registry/function_registry.h"

namespace wick::functions {

struct LayerSettings {
  ArnScope scope;
  uint64_t max_zipped_bytes = 52'428'800;
  uint64_t max_unzipped_bytes = 262'144'000;
  std::string content_url_base;  // Content.Location: <base>/<sha256>.zip
  // Makes a Location URL fetchable (presigned) without a signed request; unset: as is.
  std::function<std::string(const std::string& url)> presign_location;
};

class LayerService {
 public:
  LayerService(registry::FunctionRegistry& registry, const CodeStore& content,
               LayerSettings settings)
      : registry_(registry), content_(content), settings_(std::move(settings)) {}

  Outcome publishLayerVersion(const std::string& layer_name, const std::string& body);
  Outcome getLayerVersion(const std::string& layer_name, const std::string& version);
  Outcome getLayerVersionByArn(const std::string& arn);
  Outcome listLayers(const std::string& runtime, const std::string& architecture,
                     const std::string& marker, const std::string& max_items);
  Outcome listLayerVersions(const std::string& layer_name, const std::string& runtime,
                            const std::string& architecture, const std::string& marker,
                            const std::string& max_items);
  Outcome deleteLayerVersion(const std::string& layer_name, const std::string& version);

  // A function's Layers (version ARNs, in order) as wick keeps them:
  // [{"Arn","Sha256","CodeSize","UnpackedSize"}]; an AWS error naming the
  // first that is malformed, unknown or deleted.
  std::variant<nlohmann::json, api::AwsError> resolve(const nlohmann::json& arns);
  // After a function or version let go of these layers: content of deleted
  // versions nobody uses any more is removed.
  void release(const nlohmann::json& layers);

  const CodeStore& content() const { return content_; }
  LayerSettings& settings() { return settings_; }

 private:
  std::string layerArn(const std::string& name) const;
  // Content.Location of a layer's zip (presigned when the daemon says so).
  std::string location(const std::string& code_sha256) const;
  nlohmann::json versionDocument(const registry::LayerVersionRecord& layer) const;
  void collect(const registry::LayerVersionRecord& layer);

  registry::FunctionRegistry& registry_;
  const CodeStore& content_;
  LayerSettings settings_;
  std::mutex mutex_;
};

}  // namespace wick::functions
