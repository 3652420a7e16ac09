// Functions, durably: one SQLite database (WAL) in the state directory.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/registry/function_config.h"
#include "host/registry/sqlite.h"

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

class FunctionRegistry {
 public:
  static Result<FunctionRegistry> open(const std::string& path);

  Result<std::optional<FunctionRecord>> get(const std::string& name);
  // false when a function of that name exists already.
  Result<bool> insert(const FunctionRecord& record);
  Status update(const FunctionRecord& record);
  Result<bool> remove(const std::string& name);
  // In name order, after `marker` (exclusive), at most `limit`.
  Result<std::vector<FunctionRecord>> list(const std::string& marker, int64_t limit);
  Result<int64_t> count();
  Result<int64_t> totalCodeSize();
  Result<int64_t> reservedConcurrencyExcept(const std::string& name);
  // Functions and published versions whose code is this zip.
  Result<int64_t> functionsUsingCode(const std::string& code_sha256);

  // Published versions, by number.
  Result<std::vector<VersionRecord>> versions(const std::string& function);
  Result<std::optional<VersionRecord>> version(const std::string& function, int64_t number);
  Status insertVersion(const VersionRecord& version);
  Result<bool> removeVersion(const std::string& function, int64_t number);
  // Every version of the function, its aliases too (DeleteFunction).
  Status removeVersionsAndAliases(const std::string& function);

  Result<std::vector<AliasRecord>> aliases(const std::string& function);
  Result<std::optional<AliasRecord>> alias(const std::string& function, const std::string& name);
  Result<bool> insertAlias(const AliasRecord& alias);
  Status updateAlias(const AliasRecord& alias);
  Result<bool> removeAlias(const std::string& function, const std::string& name);

  // Layer versions, deleted ones included (`deleted` tells).
  Result<std::vector<LayerVersionRecord>> layerVersions(const std::string& name);
  Result<std::vector<LayerVersionRecord>> allLayerVersions();
  Result<std::optional<LayerVersionRecord>> layerVersion(const std::string& name, int64_t version);
  Status insertLayerVersion(const LayerVersionRecord& layer);
  Status markLayerVersionDeleted(const std::string& name, int64_t version);
  // Functions and versions whose Layers name this layer version ARN.
  Result<int64_t> functionsUsingLayer(const std::string& layer_version_arn);
  // Functions and versions whose image is this manifest digest ("sha256:...").
  Result<std::vector<std::string>> imageDigestsInUse();

 private:
  explicit FunctionRegistry(Database db) : db_(std::move(db)) {}
  Result<std::vector<FunctionRecord>> query(Statement statement);
  Database db_;
};

}  // namespace wick::registry
