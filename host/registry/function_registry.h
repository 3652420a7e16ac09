// Functions, durably: one SQLite database (WAL) in the state directory.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/registry/function_config.h"

namespace wick::registry {

struct FunctionRecord {
  std::string name;
  // What the user set (Runtime, Role, Handler, Timeout, MemorySize, ...).
  FunctionConfig config;
  std::string code_sha256;  // hex of the zip's sha256
  int64_t code_size = 0;
  std::string revision_id;
  std::string last_modified;
  std::optional<int64_t> reserved_concurrency;
  nlohmann::json tags = nlohmann::json::object();
  std::string state = "Active";
  std::string state_reason;
  std::string state_reason_code;
  std::string last_update_status = "Successful";
  // What wick keeps beside the API's view: for images {"ImageUri",
  // "ImageDigest"}, the layers' content {"Layers":[{"Arn","Sha256","Size"}]},
  // the code's unpacked size {"UnpackedSize"}.
  nlohmann::json internal = nlohmann::json::object();
  // Not stored in the functions table: "$LATEST", or the number of a
  // published version (a snapshot of the record).
  std::string version = "$LATEST";
};

// A published version: the function's record as it was, immutable.
struct VersionRecord {
  int64_t number = 0;
  FunctionRecord record;  // record.version == std::to_string(number)
};

struct AliasRecord {
  std::string function;
  std::string name;
  std::string function_version;
  std::string description;
  nlohmann::json routing = nlohmann::json::object();  // {"AdditionalVersionWeights":{...}}
  std::string revision_id;
};

struct LayerVersionRecord {
  std::string name;
  int64_t version = 0;
  std::string description;
  nlohmann::json compatible_runtimes = nlohmann::json::array();
  nlohmann::json compatible_architectures = nlohmann::json::array();
  std::string license_info;
  std::string code_sha256;  // hex of the zip's sha256
  int64_t code_size = 0;
  int64_t unpacked_size = 0;
  std::string created_date;
  bool deleted = false;  // no longer listed; kept while functions use it
};

// The registry behind the control plane and the invoke path: functions,
// versions, aliases, layer versions and the settings they carry. The seam for
// more than one host: SqliteRegistry (sqlite_registry.h) is the embedded
// default; a shared database (PostgreSQL) implements the same interface, and
// nothing past it (services, planner, invoker) changes. Implementations are
// called from the worker pool, one call at a time per service (the services
// hold their own lock); each error names the operation that failed.
class FunctionRegistry {
 public:
  virtual ~FunctionRegistry() = default;

  virtual Result<std::optional<FunctionRecord>> get(const std::string& name) = 0;
  // false when a function of that name exists already.
  virtual Result<bool> insert(const FunctionRecord& record) = 0;
  virtual Status update(const FunctionRecord& record) = 0;
  virtual Result<bool> remove(const std::string& name) = 0;
  // In name order, after `marker` (exclusive), at most `limit`.
  virtual Result<std::vector<FunctionRecord>> list(const std::string& marker, int64_t limit) = 0;
  virtual Result<int64_t> count() = 0;
  virtual Result<int64_t> totalCodeSize() = 0;
  virtual Result<int64_t> reservedConcurrencyExcept(const std::string& name) = 0;
  // Functions and published versions whose code is this zip.
  virtual Result<int64_t> functionsUsingCode(const std::string& code_sha256) = 0;

  // Published versions, by number.
  virtual Result<std::vector<VersionRecord>> versions(const std::string& function) = 0;
  virtual Result<std::optional<VersionRecord>> version(const std::string& function,
                                                       int64_t number) = 0;
  virtual Status insertVersion(const VersionRecord& version) = 0;
  virtual Result<bool> removeVersion(const std::string& function, int64_t number) = 0;
  // Every version of the function, its aliases too (DeleteFunction).
  virtual Status removeVersionsAndAliases(const std::string& function) = 0;

  virtual Result<std::vector<AliasRecord>> aliases(const std::string& function) = 0;
  virtual Result<std::optional<AliasRecord>> alias(const std::string& function,
                                                   const std::string& name) = 0;
  virtual Result<bool> insertAlias(const AliasRecord& alias) = 0;
  virtual Status updateAlias(const AliasRecord& alias) = 0;
  virtual Result<bool> removeAlias(const std::string& function, const std::string& name) = 0;

  // Layer versions, deleted ones included (`deleted` tells).
  virtual Result<std::vector<LayerVersionRecord>> layerVersions(const std::string& name) = 0;
  virtual Result<std::vector<LayerVersionRecord>> allLayerVersions() = 0;
  virtual Result<std::optional<LayerVersionRecord>> layerVersion(const std::string& name,
                                                                 int64_t version) = 0;
  virtual Status insertLayerVersion(const LayerVersionRecord& layer) = 0;
  virtual Status markLayerVersionDeleted(const std::string& name, int64_t version) = 0;
  // Functions and versions whose Layers name this layer version ARN.
  virtual Result<int64_t> functionsUsingLayer(const std::string& layer_version_arn) = 0;
  // Functions and versions whose image is this manifest digest ("sha256:...").
  virtual Result<std::vector<std::string>> imageDigestsInUse() = 0;
};

}  // namespace wick::registry
