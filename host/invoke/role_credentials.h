// Credentials of execution roles, as the operator maps them in the daemon
// config: static keys, or a command printing the AWS credential_process JSON
// ({"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken",
// "Expiration"}), run again when what it gave is 5 minutes from expiring. A
// new environment of a function with a mapped role gets them as
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (as Lambda
// gives a role's temporary credentials); an unmapped role gets none. Never
// logged: errors name the role and the command, not what it printed.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wick::invoke {

struct RoleKeys {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::optional<std::chrono::system_clock::time_point> expiration;
};

struct RoleMapping {
  std::string role_arn;
  RoleKeys keys;                   // static keys, or
  std::string credential_process;  // a command (run with /bin/sh -c)
};

// Parses credential_process output.
Result<RoleKeys> parseCredentialProcessOutput(const std::string& text);

class RoleCredentials {
 public:
  explicit RoleCredentials(std::vector<RoleMapping> mappings);

  bool empty() const { return mappings_.empty(); }
  // The role's keys; nullopt for a role the operator did not map.
  Result<std::optional<RoleKeys>> forRole(const std::string& role_arn);

  // The role whose current keys (static, or the last credential_process gave,
  // unexpired) have this access key id: functions sign their calls to wickd's
  // API with them, as they would call Lambda with their role's keys.
  struct KnownKeys {
    std::string role_arn;
    RoleKeys keys;
  };
  std::optional<KnownKeys> findByAccessKeyId(std::string_view access_key_id);

 private:
  std::map<std::string, RoleMapping> mappings_;
  std::mutex mutex_;
  std::map<std::string, RoleKeys> cached_;  // from credential_process
};

}  // namespace wick::invoke
