#include "host/destinations/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

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

// The whole exchange as asynchronous steps on a private io_context, so one
// deadline (beast::tcp_stream's) bounds every step; run() returns when done.
class Exchange {
 public:
  Exchange(const OutgoingRequest& request, std::chrono::milliseconds timeout)
      : request_(beastRequest(request)),
        resolver_(io_),
        stream_(io_),
        host_(request.endpoint.host),
        port_(request.endpoint.port),
        timeout_(timeout) {}

  Result<HttpAnswer> run() {
    stream_.expires_after(timeout_);
    resolver_.async_resolve(host_, port_,
                            [this](auto error, auto endpoints) { resolved(error, endpoints); });
    io_.run_for(timeout_ + std::chrono::seconds(1));
    if (error_) return Error(*error_, EIO);
    if (!done_)
      return Error("no answer from " + host_ + ":" + port_ + " within " +
                       std::to_string(timeout_.count()) + " ms",
                   ETIMEDOUT);
    return HttpAnswer{response_.result_int(), response_.body()};
  }

 private:
  void resolved(boost::system::error_code error, asio::ip::tcp::resolver::results_type endpoints) {
    if (fail(error, "resolve")) return;
    stream_.async_connect(endpoints,
                          [this](auto connect_error, auto) { connected(connect_error); });
  }

  void connected(boost::system::error_code error) {
    if (fail(error, "connect")) return;
    bhttp::async_write(stream_, request_,
                       [this](auto write_error, size_t) { written(write_error); });
  }

  void written(boost::system::error_code error) {
    if (fail(error, "send")) return;
    bhttp::async_read(stream_, buffer_, response_, [this](auto read_error, size_t) {
      if (fail(read_error, "read the answer")) return;
      done_ = true;
      boost::system::error_code ignored;
      stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    });
  }

  bool fail(boost::system::error_code error, const char* step) {
    if (!error) return false;
    error_ = std::string(step) + " " + host_ + ":" + port_ + ": " + error.message();
    return true;
  }

  asio::io_context io_;
  bhttp::request<bhttp::string_body> request_;
  asio::ip::tcp::resolver resolver_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bhttp::response<bhttp::string_body> response_;
  std::string host_;
  std::string port_;
  std::chrono::milliseconds timeout_;
  std::optional<std::string> error_;
  bool done_ = false;
};

}  // namespace

Result<HttpAnswer> postRequest(const OutgoingRequest& request, std::chrono::milliseconds timeout) {
  return Exchange(request, timeout).run();
}

}  // namespace wick::destinations
