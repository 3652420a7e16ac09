#include "host/destinations/http_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

namespace wick::destinations {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;

namespace {

bhttp::request<bhttp::string_body> beastRequest(const OutgoingRequest& request) {
  bhttp::request<bhttp::string_body> out{bhttp::verb::post, request.path, 11};
  for (const auto& [name, value] : request.headers)
    out.set(name, value);
  out.body() = request.body;
  out.prepare_payload();
  return out;
}

// The resolver and the streams outlive the coroutine while a handler of the
// deadline timer may still point at them.
struct Connection {
  Connection(const asio::any_io_executor& executor, ssl::context* context)
      : resolver(executor), plain(executor), deadline(executor) {
    if (context != nullptr) tls.emplace(executor, *context);
  }
  // The TCP stream under whichever is used.
  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : plain; }
  asio::ip::tcp::resolver resolver;
  beast::tcp_stream plain;                                  // http://
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;  // https://
  asio::steady_timer deadline;
  bool expired = false;
};

// The request written and the answer read over `stream` (plain or TLS).
template <typename Stream>
asio::awaitable<boost::system::error_code> exchange(Stream& stream, const OutgoingRequest& request,
                                                    bhttp::response<bhttp::string_body>& response,
                                                    const char*& step) {
  boost::system::error_code error;
  auto outgoing = beastRequest(request);
  step = "send";
  co_await bhttp::async_write(stream, outgoing, asio::redirect_error(asio::use_awaitable, error));
  if (error) co_return error;
  beast::flat_buffer buffer;
  step = "read the answer from";
  co_await bhttp::async_read(stream, buffer, response,
                             asio::redirect_error(asio::use_awaitable, error));
  co_return error;
}

// Why a handshake failed: a verification failure says what was wrong with
// the peer's certificate.
std::string handshakeError(const boost::system::error_code& error, SSL* ssl,
                           const std::string& host) {
  std::string text = error.message();
  if (error.category() != asio::error::get_ssl_category() ||
      ERR_GET_REASON(error.value()) != SSL_R_CERTIFICATE_VERIFY_FAILED)
    return text;
  // The chain's own checks say what failed; the host name check (asio's
  // callback, after them) leaves "unspecified".
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK || result == X509_V_ERR_UNSPECIFIED)
    return text + ": the certificate does not name " + host;
  return text + ": " + X509_verify_cert_error_string(result);
}

}  // namespace

Result<std::shared_ptr<ssl::context>> clientTlsContext(const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code error;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       error);
  if (error) return Error("set TLS options: " + error.message(), EINVAL);
  if (ca_file.empty())
    context->set_default_verify_paths(error);
  else
    context->load_verify_file(ca_file, error);
  if (error)
    return Error("load CA certificates" + (ca_file.empty() ? "" : " from " + ca_file) + ": " +
                     error.message(),
                 EINVAL);
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

asio::awaitable<Result<HttpAnswer>> postRequest(const OutgoingRequest& request,
                                                std::chrono::milliseconds timeout,
                                                ssl::context* tls) {
  const std::string& host = request.endpoint.host;
  const std::string where = host + ":" + request.endpoint.port;
  if (request.endpoint.tls && tls == nullptr)
    co_return Error(request.endpoint.url + ": no TLS context for an https endpoint", EINVAL);
  auto connection = std::make_shared<Connection>(co_await asio::this_coro::executor,
                                                 request.endpoint.tls ? tls : nullptr);
  // One deadline over every step: the timer cancels the resolver and closes
  // the socket, which ends whichever step is under way.
  connection->deadline.expires_after(timeout);
  connection->deadline.async_wait([weak = std::weak_ptr(connection)](boost::system::error_code e) {
    auto alive = weak.lock();
    if (e || !alive) return;
    alive->expired = true;
    alive->resolver.cancel();
    boost::system::error_code ignored;
    alive->tcp().socket().close(ignored);
  });
  const char* step = "resolve";
  auto failed = [&](boost::system::error_code error) -> Result<HttpAnswer> {
    connection->deadline.cancel();
    if (connection->expired)
      return Error("no answer from " + where + " within " + std::to_string(timeout.count()) +
                       " ms (" + step + ")",
                   ETIMEDOUT);
    return Error(std::string(step) + " " + where + ": " + error.message(), EIO);
  };
  boost::system::error_code error;
  auto endpoints = co_await connection->resolver.async_resolve(
      host, request.endpoint.port, asio::redirect_error(asio::use_awaitable, error));
  if (error || connection->expired) co_return failed(error);
  step = "connect";
  co_await connection->tcp().async_connect(endpoints,
                                           asio::redirect_error(asio::use_awaitable, error));
  if (error || connection->expired) co_return failed(error);
  bhttp::response<bhttp::string_body> response;
  if (connection->tls) {
    auto& stream = *connection->tls;
    boost::system::error_code not_address;
    asio::ip::make_address(host, not_address);
    // SNI names a host, never an address (RFC 6066).
    if (not_address && !SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
      co_return Error("set the TLS server name " + host, EINVAL);
    stream.set_verify_callback(ssl::host_name_verification(host));
    step = "TLS handshake with";
    co_await stream.async_handshake(ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, error));
    if (error && !connection->expired)
      co_return Error("TLS handshake with " + where + ": " +
                          handshakeError(error, stream.native_handle(), host),
                      EIO);
    if (error || connection->expired) co_return failed(error);
    error = co_await exchange(stream, request, response, step);
  } else {
    error = co_await exchange(connection->plain, request, response, step);
  }
  if (error || connection->expired) co_return failed(error);
  connection->deadline.cancel();
  connection->tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, error);
  co_return HttpAnswer{response.result_int(), std::move(response.body())};
}

}  // namespace wick::destinations
