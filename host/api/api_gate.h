// Who may reach which route, checked on every request before any work (issue
// 15). On a TCP listener:
//   - a request from a web page (any Origin header) or naming a Host that is
//     not one of this daemon's names is refused (CSRF, DNS rebinding);
//   - wick's admin routes (every /wick/... path but the two download URLs)
//     are absent: they are served on the admin Unix socket only;
//   - the download URLs GetFunction and GetLayerVersion hand out
//     (/wick/code/, /wick/layer-content/) need the presigned query wickd put
//     in them;
//   - everything else needs a SigV4 signature of a known principal, scoped to
//     the route's service (lambda, logs, scheduler); a principal that is not
//     an admin may only invoke.
// Every refusal is logged on one line: who (peer, access key id) and why.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/thread_pool.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/auth/presigned_url.h"
#include "host/auth/request_verifier.h"
#include "host/http/server.h"

namespace wick::api {

enum class RouteKind {
  kAdmin,     // /wick/... : the admin socket only
  kDownload,  // /wick/code/..., /wick/layer-content/... : presigned
  kApi,       // the AWS APIs: SigV4
};
RouteKind routeKind(std::string_view path);
// The SigV4 service a route is signed for: "logs" (X-Amz-Target Logs_...),
// "scheduler" (/schedules), else "lambda".
std::string_view signingService(const http::Request& request);
// Invoke and InvokeAsync: what a principal that is not an admin may call.
bool isInvoke(const http::Request& request);
// The host part of a Host header: "127.0.0.1" of "127.0.0.1:3001", "::1" of
// "[::1]:3001", lower-cased, without a trailing dot.
std::string hostName(std::string_view host_header);

struct GateSettings {
  bool insecure_no_auth = false;  // no SigV4, Host or Origin checks
  std::string account_id;         // for the ARN in AccessDenied messages
  // The names a request's Host may carry (without port): the listen address,
  // localhost, 127.0.0.1, ::1 and the configured ones.
  std::vector<std::string> host_names;
};

class ApiGate {
 public:
  // `verifier` and `urls` outlive the gate.
  ApiGate(GateSettings settings, const auth::RequestVerifier& verifier,
          const auth::UrlSigner& urls);

  // Before the body is read: what can be refused without it (Origin, Host,
  // admin routes, unsigned or unknown keys), so an unwanted upload is not read.
  // (For a body of at most 64 KiB only the first three: its request is
  // verified once, whole, by `admit`.)
  std::optional<http::Response> admitHead(const http::Request& head,
                                          std::optional<uint64_t> length = std::nullopt) const;
  // After the body, before any work: nullopt when the request may go on.
  std::optional<http::Response> admit(const http::Request& request) const;
  // `next` behind this gate. A body over 64 KiB is hashed on `workers` (when
  // given), not on the I/O thread: SHA-256 of a 6 MB invoke takes milliseconds.
  http::Handler guard(http::Handler next, boost::asio::thread_pool* workers = nullptr) const;

  const GateSettings& settings() const { return settings_; }

 private:
  std::optional<http::Response> admitWithoutSignature(const http::Request& request) const;
  http::Response refuse(const http::Request& request, int status, const std::string& type,
                        const std::string& message, const std::string& reason,
                        const std::string& key_id = {}) const;

  GateSettings settings_;
  const auth::RequestVerifier& verifier_;
  const auth::UrlSigner& urls_;
};

// The admin Unix socket's guard: the file is root's and 0600, and the peer's
// uid (SO_PEERCRED) must be the daemon's own as well.
http::Handler guardAdminSocket(http::Handler next);

}  // namespace wick::api
