#include "host/destinations/http_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <memory>

namespace wick::destinations {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

bhttp::request<bhttp::string_body> beastRequest(const OutgoingRequest& request) {
  bhttp::request<bhttp::string_body> out{bhttp::verb::post, request.path, 11};
  for (const auto& [name, value] : request.headers)
    out.set(name, value);
  out.body() = request.body;
  out.prepare_payload();
  return out;
}

// The resolver and the stream outlive the coroutine while a handler of the
// deadline timer may still point at them.
struct Connection {
  explicit Connection(const asio::any_io_executor& executor)
      : resolver(executor), stream(executor), deadline(executor) {}
  asio::ip::tcp::resolver resolver;
  beast::tcp_stream stream;
  asio::steady_timer deadline;
  bool expired = false;
};

}  // namespace

asio::awaitable<Result<HttpAnswer>> postRequest(const OutgoingRequest& request,
                                                std::chrono::milliseconds timeout) {
  const std::string where = request.endpoint.host + ":" + request.endpoint.port;
  auto connection = std::make_shared<Connection>(co_await asio::this_coro::executor);
  // One deadline over every step: the timer cancels the resolver and closes
  // the stream, which ends whichever step is under way.
  connection->deadline.expires_after(timeout);
  connection->deadline.async_wait([weak = std::weak_ptr(connection)](boost::system::error_code e) {
    auto alive = weak.lock();
    if (e || !alive) return;
    alive->expired = true;
    alive->resolver.cancel();
    boost::system::error_code ignored;
    alive->stream.socket().close(ignored);
  });
  auto failed = [&](const char* step, boost::system::error_code error) -> Result<HttpAnswer> {
    connection->deadline.cancel();
    if (connection->expired)
      return Error("no answer from " + where + " within " + std::to_string(timeout.count()) +
                       " ms (" + step + ")",
                   ETIMEDOUT);
    return Error(std::string(step) + " " + where + ": " + error.message(), EIO);
  };
  boost::system::error_code error;
  auto endpoints =
      co_await connection->resolver.async_resolve(request.endpoint.host, request.endpoint.port,
                                                  asio::redirect_error(asio::use_awaitable, error));
  if (error || connection->expired) co_return failed("resolve", error);
  co_await connection->stream.async_connect(endpoints,
                                            asio::redirect_error(asio::use_awaitable, error));
  if (error || connection->expired) co_return failed("connect", error);
  auto outgoing = beastRequest(request);
  co_await bhttp::async_write(connection->stream, outgoing,
                              asio::redirect_error(asio::use_awaitable, error));
  if (error || connection->expired) co_return failed("send", error);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> response;
  co_await bhttp::async_read(connection->stream, buffer, response,
                             asio::redirect_error(asio::use_awaitable, error));
  if (error || connection->expired) co_return failed("read the answer from", error);
  connection->deadline.cancel();
  connection->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, error);
  co_return HttpAnswer{response.result_int(), std::move(response.body())};
}

}  // namespace wick::destinations
