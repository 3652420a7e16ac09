// Who may use wickd's API, as the daemon sets it up (issue 15): the
// credentials file (made with an admin key at first start), the SigV4
// verifier over it and the roles' keys, the gate of each TCP listener, the
// presigner of download URLs and the admin Unix socket's path.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "host/api/api_gate.h"
#include "host/auth/credential_store.h"
#include "host/auth/presigned_url.h"
#include "host/auth/request_verifier.h"
#include "host/invoke/role_credentials.h"
#include "wickd_config.pb.h"

namespace wick::daemon {

class ApiAccess {
 public:
  // `roles` outlives this: functions sign their calls with their role's keys.
  static Result<std::unique_ptr<ApiAccess>> open(const DaemonConfig& config,
                                                 invoke::RoleCredentials& roles);

  // `next` behind the gate of the Lambda API listener (large bodies hashed on `workers`).
  http::Handler guardListener(http::Handler next, boost::asio::thread_pool& workers) const {
    return listener_gate_->guard(std::move(next), &workers);
  }
  // `next` behind a gate whose Host names are a network gateway's `address`.
  http::Handler guardGateway(const std::string& address, http::Handler next,
                             boost::asio::thread_pool& workers);
  // ServerOptions::refuse_head of the listener: the gate's head checks, then `then`'s.
  std::function<std::optional<http::Response>(const http::Request&, std::optional<uint64_t>)>
  refuseHead(
      std::function<std::optional<http::Response>(const http::Request&, std::optional<uint64_t>)>
          then) const;
  // A download URL's presigned form (functions::ServiceSettings::presign_location).
  std::function<std::string(const std::string& url)> presigner() const;

  // The SigV4 verifier over the principals (the credentials file's, then the
  // roles'), for AWS_IAM function URLs too: one for every signature wickd checks.
  const auth::RequestVerifier& verifier() const { return verifier_; }

  const std::string& adminSocketPath() const { return admin_socket_; }
  const std::string& credentialsPath() const { return credentials_path_; }

 private:
  ApiAccess(const DaemonConfig& config, invoke::RoleCredentials& roles,
            auth::CredentialStore store);
  std::optional<auth::Principal> find(std::string_view access_key_id) const;
  api::GateSettings gateSettings(const std::string& address) const;

  const DaemonConfig& config_;
  invoke::RoleCredentials& roles_;
  auth::CredentialStore store_;
  auth::UrlSigner urls_;
  auth::RequestVerifier verifier_;
  std::unique_ptr<api::ApiGate> listener_gate_;
  std::list<api::ApiGate> gateway_gates_;  // a list: gates keep their address
  std::string credentials_path_, admin_socket_;
};

}  // namespace wick::daemon
