#include "host/daemon/function_urls.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "host/invoke/payload_limit.h"

namespace wick::daemon {

Result<std::unique_ptr<FunctionUrls>> FunctionUrls::open(const DaemonConfig& config,
                                                         boost::asio::io_context& io,
                                                         functions::FunctionService& functions,
                                                         invoke::Invoker* invoker,
                                                         boost::asio::thread_pool& workers,
                                                         const auth::RequestVerifier* verifier) {
  std::unique_ptr<FunctionUrls> built(new FunctionUrls());
  auto store = urls::openSqliteUrlStore(config.state_dir() + "/urls.db");
  if (!store) return std::move(store).error();
  built->store_ = std::move(*store);
  built->directory_ = std::make_unique<urls::UrlDirectory>(*built->store_);
  built->listen_configured_ = config.has_url_listen();
  built->listen_address_ = config.has_url_listen() ? config.url_listen() : "127.0.0.1:3002";
  const std::string domain = config.url_domain().empty() ? "localhost" : config.url_domain();
  built->base_ = {
      .scheme = config.url_public_scheme().empty() ? "http" : config.url_public_scheme(),
      .region = config.region(),
      .domain = domain,
      .port = config.url_public_port()};
  if (built->base_.scheme != "http" && built->base_.scheme != "https")
    return Error("url_public_scheme '" + built->base_.scheme + "' is neither http nor https",
                 EINVAL);
  built->api_ =
      std::make_unique<api::FunctionUrlApi>(*built->directory_, built->base_, functions, workers);
  urls::GatewaySettings settings;
  settings.region = config.region();
  settings.domain = domain;
  settings.account_id = config.account_id();
  settings.trusted_proxies.assign(config.url_trusted_proxies().begin(),
                                  config.url_trusted_proxies().end());
  built->gateway_ = std::make_unique<urls::UrlGateway>(*built->directory_, invoker, workers,
                                                       std::move(settings), verifier);
  http::ServerOptions options;
  // A URL's request becomes an event of at most 6 MB; a body that cannot fit
  // is refused by its Content-Length before it is read.
  options.body_limit = invoke::kMaxInvokePayload;
  built->server_ = std::make_unique<http::Server>(
      io,
      [gateway = built->gateway_.get()](http::Request request) {
        return gateway->handle(std::move(request));
      },
      options);
  return built;
}

Status FunctionUrls::listen() {
  if (listen_address_.empty()) {
    spdlog::info("function URL listener off (url_listen is empty)");
    return {};
  }
  if (auto listening = server_->listen(listen_address_); !listening) {
    if (listen_configured_) return std::move(listening).error().context("url_listen");
    spdlog::warn("function URL listener off: {} (set url_listen)", listening.error().message());
    server_.reset();
    return {};
  }
  if (base_.port == 0) base_.port = server_->port();
  spdlog::info("function URLs on {}:{} (Host <url-id>.lambda-url.{}.{})",
               listen_address_.substr(0, listen_address_.rfind(':')), server_->port(), base_.region,
               base_.domain);
  return {};
}

}  // namespace wick::daemon
