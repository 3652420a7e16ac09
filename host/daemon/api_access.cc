#include "host/daemon/api_access.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

namespace wick::daemon {

namespace {

// The host of a listen address: "127.0.0.1" of "127.0.0.1:3001", "::1" of "[::1]:3001".
std::string listenHost(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

Result<auth::CredentialStore> loadOrCreate(const DaemonConfig& config, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Error::fromErrno("credentials file " + path);
    if (config.never_create_credentials())
      return Error("no credentials file at " + path +
                       " (never_create_credentials is set): write one in the AWS shared "
                       "credentials format, owned by root, mode 0600",
                   ENOENT);
    auto admin = auth::CredentialStore::createWithAdmin(path, "wick");
    if (!admin) return std::move(admin).error();
    spdlog::info(
        "created an admin key (profile [wick], access key {}) in {}: "
        "AWS_SHARED_CREDENTIALS_FILE={} aws --profile wick ...",
        admin->access_key_id, path, path);
  }
  return auth::CredentialStore::load(path, ::geteuid());
}

}  // namespace

Result<std::unique_ptr<ApiAccess>> ApiAccess::open(const DaemonConfig& config,
                                                   invoke::RoleCredentials& roles) {
  const std::string path = config.credentials_file().empty() ? config.state_dir() + "/credentials"
                                                             : config.credentials_file();
  auth::CredentialStore store;
  if (config.insecure_no_auth()) {
    spdlog::warn(
        "insecure_no_auth: the Lambda API on {} accepts unsigned requests from anyone who can "
        "reach it, with any Host or Origin (local development only)",
        config.listen());
  } else {
    auto loaded = loadOrCreate(config, path);
    if (!loaded) return std::move(loaded).error().context("API authentication");
    store = std::move(*loaded);
    spdlog::info("API authentication: SigV4 with {} principal(s) of {}", store.size(), path);
  }
  std::unique_ptr<ApiAccess> access(new ApiAccess(config, roles, std::move(store)));
  access->credentials_path_ = path;
  return access;
}

ApiAccess::ApiAccess(const DaemonConfig& config, invoke::RoleCredentials& roles,
                     auth::CredentialStore store)
    : config_(config),
      roles_(roles),
      store_(std::move(store)),
      verifier_([this](std::string_view id) { return find(id); }, {.region = config.region()}),
      admin_socket_(config.admin_socket().empty() ? config.state_dir() + "/wickd.sock"
                                                  : config.admin_socket()) {
  listener_gate_ =
      std::make_unique<api::ApiGate>(gateSettings(listenHost(config.listen())), verifier_, urls_);
}

std::optional<auth::Principal> ApiAccess::find(std::string_view access_key_id) const {
  if (auto principal = store_.find(access_key_id)) return principal;
  // A function calling wickd with its role's keys: it may invoke.
  if (auto role = roles_.findByAccessKeyId(access_key_id))
    return auth::Principal{role->role_arn, role->keys.access_key_id, role->keys.secret_access_key,
                           role->keys.session_token, false};
  return std::nullopt;
}

api::GateSettings ApiAccess::gateSettings(const std::string& address) const {
  api::GateSettings settings;
  settings.insecure_no_auth = config_.insecure_no_auth();
  settings.account_id = config_.account_id();
  settings.host_names = {"localhost", "127.0.0.1", "::1"};
  if (!address.empty() && address != "0.0.0.0" && address != "::")
    settings.host_names.push_back(address);
  for (const auto& name : config_.api_host_names())
    settings.host_names.push_back(name);
  return settings;
}

http::Handler ApiAccess::guardGateway(const std::string& address, http::Handler next,
                                      boost::asio::thread_pool& workers) {
  gateway_gates_.emplace_back(gateSettings(address), verifier_, urls_);
  return gateway_gates_.back().guard(std::move(next), &workers);
}

std::function<std::optional<http::Response>(const http::Request&, std::optional<uint64_t>)>
ApiAccess::refuseHead(
    std::function<std::optional<http::Response>(const http::Request&, std::optional<uint64_t>)>
        then) const {
  return [this, then = std::move(then)](const http::Request& head, std::optional<uint64_t> length) {
    if (auto refused = listener_gate_->admitHead(head, length)) return refused;
    return then ? then(head, length) : std::nullopt;
  };
}

std::function<std::string(const std::string& url)> ApiAccess::presigner() const {
  return [this](const std::string& url) {
    return urls_.presign(url, static_cast<int64_t>(std::time(nullptr)));
  };
}

}  // namespace wick::daemon
