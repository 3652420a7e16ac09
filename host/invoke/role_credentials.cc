#include "host/invoke/role_credentials.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "host/network/subprocess.h"

namespace wick::invoke {

namespace {

constexpr auto kRefreshBefore = std::chrono::minutes(5);

// "2026-12-06T10:00:00Z" (the SDKs' ISO 8601 form; fractions and offsets other than Z
// are not accepted).
std::optional<std::chrono::system_clock::time_point> parseIso8601(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  while (*end == '.' || (*end >= '0' && *end <= '9'))
    ++end;
  if (*end != 'Z' && *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

bool fresh(const RoleKeys& keys) {
  return !keys.expiration || *keys.expiration - kRefreshBefore > std::chrono::system_clock::now();
}

}  // namespace

Result<RoleKeys> parseCredentialProcessOutput(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return Error("credential_process output is not a JSON object", EINVAL);
  // Checked by type: nlohmann's value() throws on a string where a number is
  // wanted (and takes 1.5 for 1).
  const auto version = doc.find("Version");
  if (version == doc.end() || !version->is_number_integer() || *version != 1)
    return Error("credential_process output: Version must be 1", EINVAL);
  RoleKeys keys;
  for (auto [name, field] : {std::pair{"AccessKeyId", &keys.access_key_id},
                             std::pair{"SecretAccessKey", &keys.secret_access_key},
                             std::pair{"SessionToken", &keys.session_token}}) {
    const auto found = doc.find(name);
    if (found == doc.end() || found->is_null()) continue;  // absent, as botocore reads it
    if (!found->is_string())
      return Error(std::string("credential_process output: ") + name + " is not a string", EINVAL);
    *field = found->get<std::string>();
  }
  if (keys.access_key_id.empty() || keys.secret_access_key.empty())
    return Error("credential_process output: no AccessKeyId or SecretAccessKey", EINVAL);
  if (doc.contains("Expiration") && !doc["Expiration"].is_null()) {
    const auto& expiration = doc["Expiration"];
    if (expiration.is_string()) keys.expiration = parseIso8601(expiration.get<std::string>());
    if (!keys.expiration)
      return Error("credential_process output: Expiration is not an ISO 8601 UTC time", EINVAL);
  }
  return keys;
}

RoleCredentials::RoleCredentials(std::vector<RoleMapping> mappings) {
  for (auto& mapping : mappings)
    mappings_[mapping.role_arn] = std::move(mapping);
}

Result<std::optional<RoleKeys>> RoleCredentials::forRole(const std::string& role_arn) {
  auto found = mappings_.find(role_arn);
  if (found == mappings_.end()) return std::optional<RoleKeys>();
  const RoleMapping& mapping = found->second;
  if (mapping.credential_process.empty()) return std::optional<RoleKeys>(mapping.keys);
  std::lock_guard lock(mutex_);
  if (auto cached = cached_.find(role_arn); cached != cached_.end() && fresh(cached->second))
    return std::optional<RoleKeys>(cached->second);
  const std::string what = "credentials of role " + role_arn + " (credential_process '" +
                           mapping.credential_process + "')";
  auto output = network::runProgram(
      {.argv = {"/bin/sh", "-c", mapping.credential_process},
       .env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}});
  if (!output) return std::move(output).error().context(what);
  if (output->exit_code != 0)
    return Error(what + ": exit " + std::to_string(output->exit_code), EIO);
  auto keys = parseCredentialProcessOutput(output->stdout_text);
  if (!keys) return std::move(keys).error().context(what);
  cached_[role_arn] = *keys;
  return std::optional<RoleKeys>(std::move(*keys));
}

std::optional<RoleCredentials::KnownKeys> RoleCredentials::findByAccessKeyId(
    std::string_view access_key_id) {
  for (const auto& [arn, mapping] : mappings_)
    if (mapping.credential_process.empty() && mapping.keys.access_key_id == access_key_id)
      return KnownKeys{arn, mapping.keys};
  std::lock_guard lock(mutex_);
  for (const auto& [arn, keys] : cached_)
    if (keys.access_key_id == access_key_id &&
        (!keys.expiration || *keys.expiration > std::chrono::system_clock::now()))
      return KnownKeys{arn, keys};
  return std::nullopt;
}

}  // namespace wick::invoke
