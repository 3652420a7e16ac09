// Functions, durably: one SQLite database (WAL) in the state directory.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/registry/sqlite.h"

namespace wick::registry {

struct FunctionRecord {
  std::string name;
  // What the user set: Runtime, Role, Handler, Description, Timeout, MemorySize,
  // Environment, EphemeralStorage, Architectures, PackageType, TracingConfig, ...
  nlohmann::json settings = nlohmann::json::object();
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
  Result<int64_t> functionsUsingCode(const std::string& code_sha256);

 private:
  explicit FunctionRegistry(Database db) : db_(std::move(db)) {}
  Result<std::vector<FunctionRecord>> query(Statement statement);
  Database db_;
};

}  // namespace wick::registry
