// The Lambda control plane for functions: each operation takes the request's
// decoded parts and answers with a reply or an AWS error. Synchronous (SQLite,
// extraction): callers run it on the worker pool, never on the I/O threads.
#pragma once

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
#include "host/registry/function_registry.h"

namespace wick::functions {

struct Reply {
  int status = 200;
  std::optional<nlohmann::json> body;  // none: an empty body (204)
};
using Outcome = std::variant<Reply, api::AwsError>;

struct ServiceSettings {
  ArnScope scope;
  int64_t account_concurrency = 1000;
  int64_t min_unreserved_concurrency = 100;
  uint64_t max_zipped_bytes = 52'428'800;
  uint64_t max_unzipped_bytes = 262'144'000;
  std::string code_url_base;  // GetFunction's Code.Location: <base>/<sha256>.zip
};

class FunctionService {
 public:
  FunctionService(registry::FunctionRegistry& registry, const CodeStore& code,
                  ServiceSettings settings)
      : registry_(registry), code_(code), settings_(std::move(settings)) {}

  Outcome createFunction(const std::string& body);
  Outcome getFunction(const std::string& function_name, const std::string& qualifier);
  Outcome getFunctionConfiguration(const std::string& function_name, const std::string& qualifier);
  Outcome listFunctions(const std::string& marker, const std::string& max_items);
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

  // The invoke path's view of a function: its record and the reserved
  // concurrency of all functions together (their pools leave the account's).
  struct Cached {
    std::shared_ptr<const registry::FunctionRecord> record;
    int64_t reserved_total = 0;
  };
  // From memory, without touching SQLite (safe on the I/O threads); nullopt
  // when not cached (or not $LATEST): then call resolve() on a worker.
  std::optional<Cached> cached(const std::string& function_name, const std::string& qualifier);
  // Reads the registry and caches the answer (blocking).
  std::variant<Cached, api::AwsError> resolve(const std::string& function_name,
                                              const std::string& qualifier);

  // The FunctionConfiguration document of a record (also used by the invoker).
  nlohmann::json configuration(const registry::FunctionRecord& record) const;
  const ServiceSettings& settings() const { return settings_; }

 private:
  std::variant<registry::FunctionRecord, api::AwsError> find(const std::string& function_name,
                                                             const std::string& qualifier);
  std::variant<StoredCode, api::AwsError> storeZip(const nlohmann::json& code);
  void releaseCode(const std::string& sha256_hex);
  void invalidate(const std::string& name);

  registry::FunctionRegistry& registry_;
  const CodeStore& code_;
  ServiceSettings settings_;
  std::mutex mutex_;  // one mutation at a time: read-check-write stays consistent
  std::mutex cache_mutex_;
  std::map<std::string, std::shared_ptr<const registry::FunctionRecord>> cache_;
  std::optional<int64_t> reserved_total_;
  uint64_t generation_ = 0;  // bumped by every mutation
};

}  // namespace wick::functions
