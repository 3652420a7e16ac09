// A response written as it is made (HTTP/1.1 chunked): for handlers whose
// answer is not known whole when it starts (InvokeWithResponseStream). The
// server hands one to every request (Request::stream); a handler that begins
// it writes the rest itself, and the Response it returns is ignored.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/http.hpp>
#include <string_view>
#include <variant>

namespace wick::http {

class ResponseStream {
 public:
  using Head = boost::beast::http::response_header<>;
  // The connection it writes to: TCP, or the admin Unix socket.
  using Socket =
      std::variant<boost::asio::ip::tcp::socket*, boost::asio::local::stream_protocol::socket*>;

  // `head_only`: the request was a HEAD, whose answer is its head alone.
  ResponseStream(Socket socket, unsigned version, bool keep_alive, bool head_only = false)
      : socket_(socket), version_(version), keep_alive_(keep_alive), head_only_(head_only) {}
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  // Sends the status line and headers (chunked for HTTP/1.1; an HTTP/1.0
  // client gets the raw bytes and the end of the connection). After a head
  // that has no content (a HEAD's, a 204, a 304), writes send nothing.
  boost::asio::awaitable<void> begin(Head head);
  // One chunk (an empty one is skipped: it would end the body).
  boost::asio::awaitable<void> write(std::string_view bytes);
  // The last chunk.
  boost::asio::awaitable<void> end();

  bool begun() const { return begun_; }
  // The client is gone (a write failed): later writes do nothing.
  bool failed() const { return failed_; }
  // Ended cleanly: the connection may serve its next request.
  bool reusable() const { return ended_ && !failed_ && keep_alive_ && version_ >= 11; }

 private:
  Socket socket_;
  unsigned version_;
  bool keep_alive_;
  bool head_only_;
  bool bodiless_ = false;  // the head sent says no content follows
  bool begun_ = false;
  bool ended_ = false;
  bool failed_ = false;
};

}  // namespace wick::http
