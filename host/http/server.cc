#include "host/http/server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <nlohmann/json.hpp>

#include "host/http/response_stream.h"

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
    parser.header_limit(kHeaderLimit);
    boost::system::error_code ec;
    co_await beast_http::async_read_header(socket, buffer, parser,
                                           asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !parser.is_done() && options_.refuse_head) {
      const auto length = parser.content_length();
      if (auto refusal =
              options_.refuse_head(requestHead(parser.get()),
                                   length ? std::optional<uint64_t>(*length) : std::nullopt)) {
        co_await answerAndClose(socket, std::move(*refusal));
        co_return;
      }
    }
    // RFC 9110 10.1.1: a client that sent Expect: 100-continue waits for this
    // (curl: up to a second) before its body. A refused header never gets here.
    if (!ec && !parser.is_done() && expectsContinue(parser.get())) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(socket, asio::buffer(kContinue.data(), kContinue.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec && !parser.is_done())
      co_await beast_http::async_read(socket, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // Closed between requests: nothing to answer. Otherwise the request is
      // refused with its status and the connection ends (its body, if any,
      // cannot be skipped).
      if (parser.got_some()) co_await refuse(socket, ec);
      co_return;
    }
    auto message = parser.release();
    // Read before the fields move into the request: keep_alive() looks at Connection.
    const bool keep_alive = message.keep_alive();
    const unsigned version = message.version();
    Request request = requestHead(message, false);
    request.body = std::move(message.body());
    request.headers = std::move(static_cast<beast_http::fields&>(message.base()));
    if (auto peer = socket.remote_endpoint(ec); !ec)
      request.peer_address = peer.address().to_string();
    if (auto local = socket.local_endpoint(ec); !ec) request.local_port = local.port();
    ec.clear();

    ResponseStream stream(socket, version, keep_alive);
    request.stream = &stream;
    Response response = co_await handler_(std::move(request));
    if (stream.begun()) {  // the handler wrote its response itself
      if (!stream.reusable()) co_return;
      continue;
    }
    response.version(version);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    co_await beast_http::async_write(socket, response,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) co_return;
  }
}

asio::awaitable<void> Server::refuse(tcp::socket& socket, boost::system::error_code error) {
  Response response{beast_http::status::bad_request, 11};
  std::string type = "InvalidRequestContentException";
  std::string text = "malformed HTTP request: " + error.message();
  if (error == beast_http::error::body_limit) {
    response.result(beast_http::status::payload_too_large);
    type = "RequestTooLargeException";
    text = "Request must be smaller than the limit";
  } else if (error == beast_http::error::header_limit) {
    response.result(beast_http::status::request_header_fields_too_large);
    type = "RequestHeaderFieldsTooLarge";
    text = "Request headers must be smaller than " + std::to_string(kHeaderLimit) + " bytes";
  } else if (error == asio::error::eof || error == beast_http::error::end_of_stream ||
             error == beast_http::error::partial_message ||
             error == asio::error::connection_reset) {
    co_return;  // the client went away mid-request: nobody to answer
  }
  response.set("x-amzn-ErrorType", type);
  response.set(beast_http::field::content_type, "application/json");
  response.body() = nlohmann::json{{"Type", "User"}, {"message", text}}.dump();
  co_await answerAndClose(socket, std::move(response));
}

asio::awaitable<void> Server::answerAndClose(tcp::socket& socket, Response response) {
  response.keep_alive(false);
  response.prepare_payload();
  boost::system::error_code ec;
  co_await beast_http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await lingeringClose(socket);
}

Request requestHead(const beast_http::request<beast_http::string_body>& message,
                    bool copy_headers) {
  Request request;
  request.method = message.method();
  std::string_view target(message.target().data(), message.target().size());
  size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    request.raw_query = std::string(target.substr(question + 1));
    request.query = parseQuery(request.raw_query);
  }
  if (copy_headers) request.headers = static_cast<const beast_http::fields&>(message.base());
  return request;
}

asio::awaitable<void> Server::lingeringClose(tcp::socket& socket) {
  // RFC 9112 9.6: shut our side, then drop what the client still sends (the
  // refused body) until it closes, for a bounded time: closing with unread
  // input would reset the connection and could lose the answer.
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  asio::steady_timer deadline(socket.get_executor());
  deadline.expires_after(kLingerTime);
  deadline.async_wait([&socket](const boost::system::error_code& waited) {
    if (!waited) socket.close();
  });
  std::array<char, 65536> sink;
  while (!ec)
    co_await socket.async_read_some(asio::buffer(sink),
                                    asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
}

bool expectsContinue(const beast_http::request<beast_http::string_body>& request) {
  auto expect = request.find(beast_http::field::expect);
  return request.version() >= 11 && expect != request.end() &&
         boost::beast::iequals(expect->value(), "100-continue");
}

}  // namespace wick::http
