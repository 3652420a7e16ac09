// An asynchronous HTTP/1.1 server (Boost.Beast on Asio coroutines): each
// connection is a coroutine, so a request that waits (a 15-minute invoke)
// holds no thread.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/error.h"

namespace wick::http {

namespace beast_http = boost::beast::http;

class ResponseStream;

struct Request {
  beast_http::verb method;
  std::string path;                               // raw path, still percent-encoded
  std::string raw_query;                          // as sent, without '?' (for signatures)
  std::multimap<std::string, std::string> query;  // decoded; keys may repeat
  std::string peer_address;                       // the TCP peer's IP ("" if unknown)
  uint16_t local_port = 0;                        // the port the request came in on
  // Who sent it, for the log: "127.0.0.1:50312", or "uid 0 pid 4242" on a Unix socket.
  std::string peer;
  // On a Unix socket, the peer's uid (SO_PEERCRED); unset on TCP.
  std::optional<uint32_t> peer_uid;
  beast_http::fields headers;
  std::string body;
  // For a handler that writes its response as it makes it (none: it cannot).
  ResponseStream* stream = nullptr;
  // The first value of a query parameter, or "" when absent.
  std::string queryValue(const std::string& key) const {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  }
  bool hasQuery(const std::string& key) const { return query.count(key) > 0; }
  std::string header(std::string_view name) const {
    auto it = headers.find(boost::beast::string_view(name.data(), name.size()));
    return it == headers.end() ? std::string() : std::string(it->value());
  }
};

using Response = beast_http::response<beast_http::string_body>;
using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

struct ServerOptions {
  uint64_t body_limit = 80ull << 20;  // CreateFunction carries a 50 MB zip in base64
  // A request's head must have arrived this long after the server began to
  // read it (an idle keep-alive connection waits for the next head): else the
  // connection ends, with a 408 if part of it came (slowloris).
  std::chrono::milliseconds header_timeout{60'000};
  // Its body, this long after its head (else 408 and the connection ends).
  std::chrono::milliseconds body_timeout{300'000};
  // A request refused by its head alone (a body over its route's own limit):
  // answered before a 100 Continue or its body, then the connection ends.
  std::function<std::optional<Response>(const Request& head, std::optional<uint64_t> length)>
      refuse_head;
};

class Server {
 public:
  Server(boost::asio::io_context& io, Handler handler, ServerOptions options = {});
  ~Server();
  // Binds and starts accepting. "127.0.0.1:3001"; port 0 picks a free one.
  Status listen(const std::string& address);
  // Binds a Unix stream socket at `path` with `mode` (a stale socket there is
  // replaced; one another process still serves is not) and starts accepting.
  // The file is removed when the server goes.
  Status listenUnix(const std::string& path, unsigned mode);
  uint16_t port() const;
  // Stops accepting new connections.
  void stopAccepting();

 private:
  template <typename Acceptor>
  boost::asio::awaitable<void> acceptLoop(Acceptor& acceptor);
  template <typename Socket>
  boost::asio::awaitable<void> serve(Socket socket, std::string peer,
                                     std::optional<uint32_t> peer_uid);
  // Answers a request that could not be read (413, 431, 400) and ends the connection.
  template <typename Socket>
  boost::asio::awaitable<void> refuse(Socket& socket, boost::system::error_code error);
  template <typename Socket>
  static boost::asio::awaitable<void> answerAndClose(Socket& socket, Response response);
  template <typename Socket>
  static boost::asio::awaitable<void> lingeringClose(Socket& socket);

  static constexpr size_t kHeaderLimit = 64 << 10;
  static constexpr std::chrono::seconds kLingerTime{2};
  static constexpr std::chrono::milliseconds kAcceptBackoff{5};
  static constexpr std::chrono::milliseconds kMaxAcceptBackoff{1000};

  boost::asio::io_context& io_;
  Handler handler_;
  ServerOptions options_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> unix_acceptor_;
  std::string unix_path_;
};

std::string percentDecode(std::string_view text);
// A request's method, path, query and (when asked) headers, without its body.
Request requestHead(const beast_http::request<beast_http::string_body>& message,
                    bool copy_headers = true);
// An HTTP/1.1 request that waits for 100 Continue before its body.
bool expectsContinue(const beast_http::request<beast_http::string_body>& request);

}  // namespace wick::http
