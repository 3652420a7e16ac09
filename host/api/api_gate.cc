#include "host/api/api_gate.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <ctime>

#include "host/api/aws_error.h"
#include "host/api/lambda_api.h"
#include "host/api/logs_api.h"
#include "host/api/route_table.h"
#include "host/api/scheduler_api.h"
#include "host/auth/refusal_log.h"
#include "host/workers.h"

namespace wick::api {

namespace {

namespace asio = boost::asio;
using http::beast_http::verb;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

using auth::printable;

std::string methodName(verb method) {
  return std::string(http::beast_http::to_string(method));
}

int64_t nowSeconds() {
  return static_cast<int64_t>(std::time(nullptr));
}

asio::awaitable<http::Response> ready(http::Response response) {
  co_return response;
}

constexpr size_t kHashOnWorkersBytes = 64 << 10;

asio::awaitable<http::Response> guarded(const ApiGate& gate, const http::Handler& next,
                                        asio::thread_pool* workers, http::Request request) {
  std::optional<http::Response> refused;
  if (workers != nullptr && request.body.size() > kHashOnWorkersBytes)
    refused = co_await onWorkers(*workers, [&gate, &request] { return gate.admit(request); });
  else
    refused = gate.admit(request);
  if (refused) co_return std::move(*refused);
  co_return co_await next(std::move(request));
}

}  // namespace

RouteKind routeKind(std::string_view path) {
  // Split and decoded exactly as the router splits them (route_table.h's
  // splitPath: empty and "." segments dropped), so no spelling of a path is
  // classified as one route and routed as another.
  const auto segments = splitPath(std::string(path));
  if (segments.empty() || lower(segments[0]) != "wick") return RouteKind::kApi;
  if (segments.size() == 3 && (segments[1] == "code" || segments[1] == "layer-content"))
    return RouteKind::kDownload;
  return RouteKind::kAdmin;
}

std::string_view signingService(const http::Request& request) {
  if (LogsApi::claims(request)) return "logs";
  if (SchedulerApi::claims(request)) return "scheduler";
  return "lambda";
}

bool isInvoke(const http::Request& request) {
  if (request.method != verb::post) return false;
  const auto segments = splitPath(request.path);
  if (segments.size() != 4 || segments[1] != "functions") return false;
  return (segments[0] == "2015-03-31" && segments[3] == "invocations") ||
         (segments[0] == "2014-11-13" && segments[3] == "invoke-async");
}

std::string hostName(std::string_view host_header) {
  std::string_view name = host_header;
  if (name.starts_with('[')) {
    const size_t close = name.find(']');
    name = close == std::string_view::npos ? name.substr(1) : name.substr(1, close - 1);
  } else if (name.find(':') == name.rfind(':')) {  // one colon at most: name:port
    name = name.substr(0, name.find(':'));
  }
  if (name.ends_with('.')) name.remove_suffix(1);
  return lower(name);
}

ApiGate::ApiGate(GateSettings settings, const auth::RequestVerifier& verifier,
                 const auth::UrlSigner& urls)
    : settings_(std::move(settings)), verifier_(verifier), urls_(urls) {
  for (auto& name : settings_.host_names)
    name = hostName(name.find(':') != std::string::npos && name.front() != '[' &&
                            name.find(':') != name.rfind(':')
                        ? "[" + name + "]"
                        : name);
}

http::Response ApiGate::refuse(const http::Request& request, int status, const std::string& type,
                               const std::string& message, const std::string& reason,
                               const std::string& key_id) const {
  auth::logRefused(request, reason, key_id);
  return toResponse(AwsError{status, type, message}, newRequestId());
}

std::optional<http::Response> ApiGate::admitWithoutSignature(const http::Request& request) const {
  if (request.path.empty() || request.path.front() != '/')
    return refuse(request, 400, "InvalidRequestContentException",
                  "The request target must be a path (origin-form)", "request target not a path");
  const RouteKind kind = routeKind(request.path);
  if (kind == RouteKind::kAdmin)
    // Absent here, as an unknown route is: the admin socket serves them.
    return refuse(
        request, 404, "UnknownOperationException",
        "Unknown operation: " + methodName(request.method) + " " + printable(request.path),
        "an admin route on TCP (they are served on the admin Unix socket only)");
  if (settings_.insecure_no_auth) return std::nullopt;
  if (auto origin = request.headers.find(http::beast_http::field::origin);
      origin != request.headers.end())
    return refuse(request, 403, "AccessDeniedException",
                  "Requests from web pages (with an Origin header) are refused: wickd's API is "
                  "not for browsers",
                  "Origin " + printable(std::string(origin->value()), 100));
  const std::string host = request.header("Host");
  const std::string name = hostName(host);
  bool known = false;
  for (const auto& allowed : settings_.host_names)
    known = known || allowed == name;
  if (!known)
    return refuse(request, 403, "AccessDeniedException",
                  "Host '" + printable(host, 100) +
                      "' is not a name of this wickd (add it to api_host_names in its config)",
                  host.empty() ? "no Host header" : "foreign Host " + printable(host, 100));
  if (kind == RouteKind::kDownload) {
    if (request.method != verb::get && request.method != verb::head)
      return refuse(request, 405, "MethodNotAllowedException", "Only GET fetches code",
                    "download URL with " + methodName(request.method));
    if (!urls_.verify(request.path, request.queryValue("X-Wick-Expires"),
                      request.queryValue("X-Wick-Signature"), nowSeconds()))
      return refuse(request, 403, "AccessDeniedException",
                    "Request has expired or its signature is not wickd's: ask GetFunction (or "
                    "GetLayerVersion) for a fresh Location",
                    "download URL unsigned, forged or expired");
  }
  return std::nullopt;
}

std::optional<http::Response> ApiGate::admitHead(const http::Request& head,
                                                 std::optional<uint64_t> length) const {
  if (auto refused = admitWithoutSignature(head)) return refused;
  if (settings_.insecure_no_auth || routeKind(head.path) != RouteKind::kApi) return std::nullopt;
  // A small body costs little to read: its request is verified once, whole.
  if (length && *length <= kHashOnWorkersBytes) return std::nullopt;
  if (auto refused = verifier_.verifyHead(head, signingService(head), nowSeconds()))
    return refuse(head, refused->status, refused->type, refused->message, refused->reason,
                  refused->key_id);
  return std::nullopt;
}

std::optional<http::Response> ApiGate::admit(const http::Request& request) const {
  if (auto refused = admitWithoutSignature(request)) return refused;
  if (settings_.insecure_no_auth || routeKind(request.path) != RouteKind::kApi) return std::nullopt;
  auto verdict = verifier_.verify(request, signingService(request), nowSeconds());
  if (auto* refused = std::get_if<auth::Refusal>(&verdict))
    return refuse(request, refused->status, refused->type, refused->message, refused->reason,
                  refused->key_id);
  const auth::Principal& principal = std::get<auth::Principal>(verdict);
  if (!principal.admin && !isInvoke(request)) {
    const std::string arn =
        principal.name.starts_with("arn:")
            ? principal.name
            : "arn:aws:iam::" + settings_.account_id + ":user/" + principal.name;
    return refuse(request, 403, "AccessDeniedException",
                  "User: " + arn +
                      " is not authorized to perform this operation: only principals with "
                      "wick_admin = true may; others may invoke",
                  "principal " + principal.name + " is not an admin", principal.access_key_id);
  }
  return std::nullopt;
}

http::Handler ApiGate::guard(http::Handler next, asio::thread_pool* workers) const {
  return [this, next = std::move(next), workers](http::Request request) {
    return guarded(*this, next, workers, std::move(request));
  };
}

http::Handler guardAdminSocket(http::Handler next) {
  const uint32_t own = ::geteuid();
  return [own, next = std::move(next)](http::Request request) {
    if (request.peer_uid != own) {
      spdlog::warn("refused {} {} on the admin socket from {}: not uid {}",
                   methodName(request.method), printable(request.path), request.peer, own);
      return ready(
          toResponse(AwsError{403, "AccessDeniedException",
                              "The admin socket serves uid " + std::to_string(own) + " only"},
                     newRequestId()));
    }
    return next(std::move(request));
  };
}

}  // namespace wick::api
