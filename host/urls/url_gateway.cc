#include "host/urls/url_gateway.h"

#include <spdlog/spdlog.h>

#include <boost/algorithm/string/predicate.hpp>

#include "common/ids.h"
#include "host/auth/refusal_log.h"
#include "host/urls/url_response.h"
#include "host/urls/url_route.h"
#include "host/urls/url_stream.h"
#include "host/workers.h"

namespace wick::urls {

namespace asio = boost::asio;
namespace beast_http = http::beast_http;

namespace {

std::string traceId() {
  char epoch[16];
  std::snprintf(epoch, sizeof epoch, "%08llx",
                static_cast<unsigned long long>(epochMillis() / 1000));
  return std::string("Root=1-") + epoch + "-" + randomHex(12);
}

}  // namespace

asio::awaitable<std::shared_ptr<const ServedUrl>> UrlGateway::find(const std::string& url_id) {
  if (auto cached = directory_.cached(url_id)) co_return *cached;
  auto loaded = co_await onWorkers(workers_, [&] { return directory_.load(url_id); });
  if (!loaded) {
    spdlog::error("function URL {}: {}", url_id, loaded.error().message());
    co_return nullptr;
  }
  co_return *loaded;
}

asio::awaitable<http::Response> UrlGateway::handle(http::Request request) {
  auto route =
      routeRequest(request.header("Host"), request.path, settings_.region, settings_.domain);
  if (!route) co_return unknownUrl();
  std::shared_ptr<const ServedUrl> url = co_await find(route->url_id);
  if (!url) co_return unknownUrl();

  const std::string origin = request.header("Origin");
  // A browser's preflight carries no credentials: it is answered before auth.
  if (url->cors && isPreflight(std::string(beast_http::to_string(request.method)), origin,
                               request.header("Access-Control-Request-Method"))) {
    http::Response response{beast_http::status::ok, 11};
    addHeaders(response, corsHeaders(*url->cors, origin, true));
    co_return response;
  }
  EventContext context = contextFor(request, *url, route->raw_path);
  if (auto refused = authorize(*url, request, context)) co_return std::move(*refused);
  // On every answer (the configured CORS headers win over the function's own).
  Headers extra = url->cors ? corsHeaders(*url->cors, origin, false) : Headers{};
  extra.emplace_back("x-amzn-RequestId", context.request_id);
  http::Response response = co_await respond(*url, request, context, extra);
  addHeaders(response, extra);
  co_return response;
}

std::optional<http::Response> UrlGateway::authorize(const ServedUrl& url,
                                                    const http::Request& request,
                                                    EventContext& context) {
  if (url.config.auth_type == "NONE") {
    if (url.public_allowed) return std::nullopt;
    spdlog::debug("function URL {} of {}: no policy statement allows InvokeFunctionUrl to *",
                  url.config.url_id, url.config.function);
    return forbidden();
  }
  if (verifier_ == nullptr) {
    spdlog::warn("function URL {} of {} is AWS_IAM but no credentials are configured: 403",
                 url.config.url_id, url.config.function);
    return forbidden();
  }
  auto verified = verifier_->verify(request, "lambda", epochMillis() / 1000);
  if (auto* refused = std::get_if<auth::Refusal>(&verified)) {
    auth::logRefused(
        request,
        "function URL " + url.config.url_id + " of " + url.config.function + ": " + refused->reason,
        refused->key_id);
    // Unsigned: the URL's own 403; a signature that fails: why, as AWS says it.
    if (refused->type == "MissingAuthenticationTokenException") return forbidden();
    return signatureRefused(refused->status, refused->type, refused->message);
  }
  const auth::Principal& caller = std::get<auth::Principal>(verified);
  // A function's role signs with its ARN as the principal's name.
  const std::string user_arn =
      caller.name.starts_with("arn:")
          ? caller.name
          : "arn:aws:iam::" + settings_.account_id + ":user/" + caller.name;
  context.account_id = settings_.account_id;
  context.authorizer = {{"iam",
                         {{"accessKey", caller.access_key_id},
                          {"accountId", settings_.account_id},
                          {"callerId", caller.access_key_id},
                          {"cognitoIdentity", nullptr},
                          {"principalOrgId", nullptr},
                          {"userArn", user_arn},
                          {"userId", caller.access_key_id}}}};
  return std::nullopt;
}

EventContext UrlGateway::contextFor(const http::Request& request, const ServedUrl& url,
                                    const std::string& raw_path) const {
  EventContext context;
  context.url_id = url.config.url_id;
  context.domain_name = urlDomainName(url.config.url_id, settings_.region, settings_.domain);
  context.raw_path = raw_path;
  const std::string forwarded = request.header("X-Forwarded-For");
  context.source_ip = sourceIp(request.peer_address, forwarded, settings_.trusted_proxies);
  const bool from_proxy =
      std::find(settings_.trusted_proxies.begin(), settings_.trusted_proxies.end(),
                request.peer_address) != settings_.trusted_proxies.end();
  // A trusted proxy's chain is kept (it appended its client); anyone else's
  // gets the peer appended, as a proxy of ours would.
  context.forwarded_for = from_proxy && !forwarded.empty() ? forwarded
                          : forwarded.empty()              ? request.peer_address
                                              : forwarded + ", " + request.peer_address;
  const std::string proto = request.header("X-Forwarded-Proto");
  const std::string port = request.header("X-Forwarded-Port");
  context.forwarded_proto = from_proxy && !proto.empty() ? proto : "http";
  context.forwarded_port = from_proxy && !port.empty()      ? port
                           : from_proxy && proto == "https" ? "443"
                                                            : std::to_string(request.local_port);
  context.request_id = newUuid();
  context.trace_id = traceId();
  context.epoch_ms = epochMillis();
  context.authorizer = nullptr;
  return context;
}

asio::awaitable<http::Response> UrlGateway::respond(const ServedUrl& url,
                                                    const http::Request& request,
                                                    const EventContext& context,
                                                    const Headers& extra) {
  if (invoker_ == nullptr) co_return internalError();
  http::Request invoke;
  invoke.method = beast_http::verb::post;
  invoke.path = "/2015-03-31/functions/" + url.config.function + "/invocations";
  if (url.config.qualifier != "$LATEST") invoke.query.emplace("Qualifier", url.config.qualifier);
  invoke.body = eventJson(request, context);
  if (url.config.invoke_mode == "RESPONSE_STREAM" && request.stream != nullptr)
    co_return co_await streamUrlResponse(*invoker_, invoke, url.config.function, context.request_id,
                                         *request.stream, extra);
  const http::Response invoked =
      co_await invoker_->invoke(invoke, url.config.function, context.request_id);
  co_return urlResponse(invoked);
}

}  // namespace wick::urls
