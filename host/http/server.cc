#include "host/http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>

namespace wick::http {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (c == '+') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::multimap<std::string, std::string> parseQuery(std::string_view query) {
  std::multimap<std::string, std::string> result;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = percentDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : percentDecode(pair.substr(eq + 1));
    result.emplace(std::move(key), std::move(value));
  }
  return result;
}

}  // namespace

Server::Server(asio::io_context& io, Handler handler, ServerOptions options)
    : io_(io), handler_(std::move(handler)), options_(options) {}

Server::~Server() {
  stopAccepting();
}

Status Server::listen(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos)
    return Error("listen address '" + address + "' has no port", EINVAL);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address.substr(0, colon), ec);
  if (ec) return Error("listen address '" + address + "': " + ec.message(), EINVAL);
  int port = std::atoi(address.substr(colon + 1).c_str());
  tcp::endpoint endpoint(ip, static_cast<uint16_t>(port));
  acceptor_ = std::make_unique<tcp::acceptor>(io_);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error("listen on " + address + ": " + ec.message(), ec.value());
  asio::co_spawn(io_, acceptLoop(), asio::detached);
  return {};
}

uint16_t Server::port() const {
  return acceptor_ ? acceptor_->local_endpoint().port() : 0;
}

void Server::stopAccepting() {
  if (acceptor_ && acceptor_->is_open()) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
}

asio::awaitable<void> Server::acceptLoop() {
  while (acceptor_ && acceptor_->is_open()) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      spdlog::warn("accept: {}", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::serve(tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  for (;;) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.body_limit(options_.body_limit);
    parser.header_limit(64 << 10);
    boost::system::error_code ec;
    co_await beast_http::async_read(socket, buffer, parser,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == beast_http::error::body_limit) {
        Response too_large{beast_http::status::payload_too_large, 11};
        too_large.set("x-amzn-ErrorType", "RequestTooLargeException");
        too_large.set(beast_http::field::content_type, "application/json");
        too_large.body() = R"({"Type":"User","message":"Request must be smaller than the limit"})";
        too_large.prepare_payload();
        co_await beast_http::async_write(socket, too_large,
                                         asio::redirect_error(asio::use_awaitable, ec));
      }
      co_return;  // closed, timed out or malformed: drop the connection
    }
    auto message = parser.release();
    Request request;
    request.method = message.method();
    std::string_view target(message.target().data(), message.target().size());
    size_t question = target.find('?');
    request.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) request.query = parseQuery(target.substr(question + 1));
    request.body = std::move(message.body());
    request.headers = std::move(static_cast<beast_http::fields&>(message.base()));
    const bool keep_alive = message.keep_alive();
    const unsigned version = message.version();

    Response response = co_await handler_(std::move(request));
    response.version(version);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    co_await beast_http::async_write(socket, response,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) co_return;
  }
}

}  // namespace wick::http
