// The Lambda control plane for functions: each operation takes the request's
// decoded parts and answers with a reply or an AWS error. Synchronous (SQLite,
// extraction): callers run it on the worker pool, never on the I/O threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "host/api/aws_error.h"
#include "host/functions/code_store.h"
#include "host/functions/function_name.h"
#include "host/functions/layer_service.h"
#include "host/functions/outcome.h"
#include "host/registry/function_registry.h"
#include "host/runtimes/base_store.h"
#include "images/image_store.h"

namespace wick::functions {

struct ServiceSettings {
  ArnScope scope;
  int64_t account_concurrency = 1000;
  int64_t min_unreserved_concurrency = 100;
  uint64_t max_zipped_bytes = 52'428'800;
  uint64_t max_unzipped_bytes = 262'144'000;
  std::string code_url_base;  // GetFunction's Code.Location: <base>/<sha256>.zip
  // Makes a Location URL fetchable (presigned) without a signed request; unset: as is.
  std::function<std::string(const std::string& url)> presign_location;
  // Whether a function's VpcConfig names a network of this host: an error
  // message if not. Unset: no VpcConfig is accepted.
  std::function<std::optional<std::string>(const nlohmann::json& vpc_config)> vpc_check;
};

class FunctionService {
 public:
  // `bases` and `images` may be null (then zip functions run as Active and
  // image functions cannot be created).
  FunctionService(registry::FunctionRegistry& registry, const CodeStore& code, LayerService& layers,
                  runtimes::BaseStore* bases, images::ImageStore* images, ServiceSettings settings)
      : registry_(registry),
        code_(code),
        layers_(layers),
        bases_(bases),
        images_(images),
        settings_(std::move(settings)) {}

  Outcome createFunction(const std::string& body);
  Outcome getFunction(const std::string& function_name, const std::string& qualifier);
  Outcome getFunctionConfiguration(const std::string& function_name, const std::string& qualifier);
  // FunctionVersion "ALL" lists published versions too.
  Outcome listFunctions(const std::string& marker, const std::string& max_items,
                        const std::string& function_version = "");
  Outcome deleteFunction(const std::string& function_name, const std::string& qualifier);
  Outcome updateFunctionCode(const std::string& function_name, const std::string& body);
  Outcome updateFunctionConfiguration(const std::string& function_name, const std::string& body);
  Outcome putFunctionConcurrency(const std::string& function_name, const std::string& body);
  Outcome getFunctionConcurrency(const std::string& function_name);
  Outcome deleteFunctionConcurrency(const std::string& function_name);
  Outcome getAccountSettings();
  Outcome tagResource(const std::string& arn, const std::string& body);
  Outcome listTags(const std::string& arn);
  Outcome untagResource(const std::string& arn, const std::vector<std::string>& keys);

  // Versions and aliases (function_versions.cc).
  Outcome publishVersion(const std::string& function_name, const std::string& body);
  Outcome listVersionsByFunction(const std::string& function_name, const std::string& marker,
                                 const std::string& max_items);
  Outcome createAlias(const std::string& function_name, const std::string& body);
  Outcome getAlias(const std::string& function_name, const std::string& alias);
  Outcome updateAlias(const std::string& function_name, const std::string& alias,
                      const std::string& body);
  Outcome deleteAlias(const std::string& function_name, const std::string& alias);
  Outcome listAliases(const std::string& function_name, const std::string& function_version,
                      const std::string& marker, const std::string& max_items);

  // The invoke path's view of a function: the version to run (and, for a
  // weighted alias, the other one and its share), the ARN it was invoked by,
  // and the reserved concurrency of all functions together.
  struct Cached {
    std::shared_ptr<const registry::FunctionRecord> record;
    std::shared_ptr<const registry::FunctionRecord> additional;
    double additional_weight = 0;
    std::string invoked_arn;
    int64_t reserved_total = 0;
  };
  // From memory, without touching SQLite (safe on the I/O threads); nullopt
  // when not cached: then call resolve() on a worker.
  std::optional<Cached> cached(const std::string& function_name, const std::string& qualifier);
  // Reads the registry and caches the answer (blocking).
  std::variant<Cached, api::AwsError> resolve(const std::string& function_name,
                                              const std::string& qualifier);

  // The FunctionConfiguration document of a record (also used by the invoker).
  nlohmann::json configuration(const registry::FunctionRecord& record) const;
  std::optional<api::AwsError> checkVpcConfig(const registry::FunctionConfig& config) const;
  // What functions and their versions hold in the image store.
  Result<images::References> imageReferences();
  const ServiceSettings& settings() const { return settings_; }
  ServiceSettings& mutableSettings() { return settings_; }

 private:
  // The record a qualifier names: $LATEST, a version, or an alias's version.
  std::variant<registry::FunctionRecord, api::AwsError> find(const std::string& function_name,
                                                             const std::string& qualifier);
  std::variant<StoredCode, api::AwsError> storeZip(const nlohmann::json& code);
  // Code.ImageUri -> the record's internal image fields.
  std::optional<api::AwsError> resolveImage(const nlohmann::json& code,
                                            registry::FunctionRecord& record);
  std::optional<api::AwsError> applyLayers(const nlohmann::json& request,
                                           registry::FunctionRecord& record);
  std::optional<api::AwsError> checkTotalSize(const registry::FunctionRecord& record) const;
  // Publishes $LATEST as a new version unless the last one is the same.
  std::variant<registry::FunctionRecord, api::AwsError> publish(registry::FunctionRecord& latest,
                                                                const std::string& description);
  void releaseCode(const std::string& sha256_hex);
  void release(const registry::FunctionRecord& record);
  void invalidate(const std::string& name);
  std::string aliasArn(const std::string& function, const std::string& alias) const;
  nlohmann::json aliasDocument(const registry::AliasRecord& alias) const;

  registry::FunctionRegistry& registry_;
  const CodeStore& code_;
  LayerService& layers_;
  runtimes::BaseStore* bases_;
  images::ImageStore* images_;
  ServiceSettings settings_;
  std::mutex mutex_;  // one mutation at a time: read-check-write stays consistent
  std::mutex cache_mutex_;
  // By "name\nqualifier".
  std::map<std::string, Cached> cache_;
  std::optional<int64_t> reserved_total_;
  uint64_t generation_ = 0;  // bumped by every mutation
};

}  // namespace wick::functions
