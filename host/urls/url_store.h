// What function URLs keep: each URL's config (one per function and qualifier,
// found again by its url-id) and each qualifier's resource policy (the
// statements AddPermission added). Behind this interface so that a shared
// database can stand behind it; SQLite (urls.db in the state directory) is the
// embedded default, apart from the registry's schema.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace wick::urls {

struct UrlConfig {
  std::string function;
  std::string qualifier = "$LATEST";  // or an alias
  std::string url_id;                 // 32 of [a-z0-9], the host's first label
  std::string auth_type;              // NONE | AWS_IAM
  std::string invoke_mode;            // BUFFERED | RESPONSE_STREAM; "" never set (BUFFERED)
  std::string cors_json;              // the Cors object as Lambda returns it; "" none
  std::string creation_time;          // ISO-8601, microseconds, Z
  std::string last_modified_time;
};

// One statement of a qualifier's policy, kept as the JSON Lambda renders.
struct PolicyStatement {
  std::string sid;
  std::string json;
};

struct Policy {
  std::vector<PolicyStatement> statements;  // in the order they were added
  std::string revision_id;
};

class UrlStore {
 public:
  virtual ~UrlStore() = default;
  // False when (function, qualifier) already has a URL.
  virtual Result<bool> createUrl(const UrlConfig& config) = 0;
  virtual Status updateUrl(const UrlConfig& config) = 0;
  virtual Result<std::optional<UrlConfig>> url(const std::string& function,
                                               const std::string& qualifier) = 0;
  virtual Result<std::optional<UrlConfig>> urlById(const std::string& url_id) = 0;
  virtual Result<std::vector<UrlConfig>> urls(const std::string& function) = 0;
  // False when there was none.
  virtual Result<bool> removeUrl(const std::string& function, const std::string& qualifier) = 0;

  virtual Result<std::optional<Policy>> policy(const std::string& function,
                                               const std::string& qualifier) = 0;
  // False when the sid is taken. `revision_id` becomes the policy's revision.
  virtual Result<bool> addStatement(const std::string& function, const std::string& qualifier,
                                    const PolicyStatement& statement,
                                    const std::string& revision_id) = 0;
  // False when there was no such statement.
  virtual Result<bool> removeStatement(const std::string& function, const std::string& qualifier,
                                       const std::string& sid, const std::string& revision_id) = 0;

  // A deleted alias or version: its URL and its policy go.
  virtual Status removeQualifier(const std::string& function, const std::string& qualifier) = 0;
  // A deleted function: every URL and policy of it goes.
  virtual Status removeFunction(const std::string& function) = 0;
};

Result<std::unique_ptr<UrlStore>> openSqliteUrlStore(const std::string& path);

}  // namespace wick::urls
