// The embedded registry: one SQLite database (WAL) in the state directory,
// its schema migrated forward on open.
#pragma once

#include <memory>
#include <string>

#include "host/registry/function_registry.h"
#include "host/registry/sqlite.h"

namespace wick::registry {

class SqliteRegistry final : public FunctionRegistry {
 public:
  // `path` may be ":memory:" (tests).
  static Result<std::unique_ptr<SqliteRegistry>> open(const std::string& path);

  Result<std::optional<FunctionRecord>> get(const std::string& name) override;
  Result<bool> insert(const FunctionRecord& record) override;
  Status update(const FunctionRecord& record) override;
  Result<bool> remove(const std::string& name) override;
  Result<std::vector<FunctionRecord>> list(const std::string& marker, int64_t limit) override;
  Result<int64_t> count() override;
  Result<int64_t> totalCodeSize() override;
  Result<int64_t> reservedConcurrencyExcept(const std::string& name) override;
  Result<int64_t> functionsUsingCode(const std::string& code_sha256) override;

  Result<std::vector<VersionRecord>> versions(const std::string& function) override;
  Result<std::optional<VersionRecord>> version(const std::string& function,
                                               int64_t number) override;
  Status insertVersion(const VersionRecord& version) override;
  Result<bool> removeVersion(const std::string& function, int64_t number) override;
  Status removeVersionsAndAliases(const std::string& function) override;

  Result<std::vector<AliasRecord>> aliases(const std::string& function) override;
  Result<std::optional<AliasRecord>> alias(const std::string& function,
                                           const std::string& name) override;
  Result<bool> insertAlias(const AliasRecord& alias) override;
  Status updateAlias(const AliasRecord& alias) override;
  Result<bool> removeAlias(const std::string& function, const std::string& name) override;

  Result<std::vector<LayerVersionRecord>> layerVersions(const std::string& name) override;
  Result<std::vector<LayerVersionRecord>> allLayerVersions() override;
  Result<std::optional<LayerVersionRecord>> layerVersion(const std::string& name,
                                                         int64_t version) override;
  Status insertLayerVersion(const LayerVersionRecord& layer) override;
  Status markLayerVersionDeleted(const std::string& name, int64_t version) override;
  Result<int64_t> functionsUsingLayer(const std::string& layer_version_arn) override;
  Result<std::vector<std::string>> imageDigestsInUse() override;

 private:
  explicit SqliteRegistry(Database db) : db_(std::move(db)) {}
  Database db_;
};

}  // namespace wick::registry
