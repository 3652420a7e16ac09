#include "host/http/server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "common/encoding.h"
#include "host/http/response_stream.h"

namespace wick::http {

namespace asio = boost::asio;
using asio::ip::tcp;
using unix_stream = asio::local::stream_protocol;

std::string percentDecode(std::string_view text) {
  return wick::percentDecode(text, /*plus_is_space=*/true);
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
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
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
  asio::co_spawn(io_, acceptLoop(*acceptor_), asio::detached);
  return {};
}

Status Server::listenUnix(const std::string& path, unsigned mode) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path))
    return Error("listen on " + path + ": a Unix socket path must be 1 to " +
                     std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes long",
                 ENAMETOOLONG);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Error("listen on " + path + ": exists and is not a socket", EEXIST);
    // A socket someone still accepts on is another daemon's: leave it.
    boost::system::error_code probe;
    unix_stream::socket client(io_);
    client.connect(unix_stream::endpoint(path), probe);
    if (!probe)
      return Error("listen on " + path + ": another process is serving this socket", EADDRINUSE);
    if (::unlink(path.c_str()) != 0) return Error::fromErrno("remove stale socket " + path);
  }
  boost::system::error_code ec;
  auto acceptor = std::make_unique<unix_stream::acceptor>(io_);
  acceptor->open(unix_stream(), ec);
  // bind(2) makes the file with the umask's mode: narrow it to `mode` from the
  // start so that no other user can connect between bind and chmod.
  const mode_t old_umask = ::umask(static_cast<mode_t>(~mode & 0777));
  if (!ec) acceptor->bind(unix_stream::endpoint(path), ec);
  ::umask(old_umask);
  if (ec) return Error("listen on " + path + ": " + ec.message(), ec.value());
  unix_path_ = path;
  if (::chmod(path.c_str(), mode) != 0) return Error::fromErrno("chmod " + path);
  acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error("listen on " + path + ": " + ec.message(), ec.value());
  unix_acceptor_ = std::move(acceptor);
  asio::co_spawn(io_, acceptLoop(*unix_acceptor_), asio::detached);
  return {};
}

uint16_t Server::port() const {
  return acceptor_ ? acceptor_->local_endpoint().port() : 0;
}

void Server::stopAccepting() {
  boost::system::error_code ignored;
  if (acceptor_ && acceptor_->is_open()) acceptor_->close(ignored);
  if (unix_acceptor_ && unix_acceptor_->is_open()) unix_acceptor_->close(ignored);
}

namespace {

// Who is on the other end, for the log and for the checks that depend on it.
std::pair<std::string, std::optional<uint32_t>> describePeer(tcp::socket& socket) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return {"?", std::nullopt};
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const std::string address = remote.address().to_string();
  return {remote.address().is_v6() ? "[" + address + "]:" + std::to_string(remote.port())
                                   : address + ":" + std::to_string(remote.port()),
          std::nullopt};
}

std::pair<std::string, std::optional<uint32_t>> describePeer(unix_stream::socket& socket) {
  struct ucred credentials {};
  socklen_t length = sizeof credentials;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0)
    return {"unix ?", std::nullopt};
  return {"uid " + std::to_string(credentials.uid) + " pid " + std::to_string(credentials.pid),
          credentials.uid};
}

}  // namespace

namespace {

// Cancels a socket's read if it is still on when its time is up. Its wait
// runs on the connection's strand, so it never races the read's end; it
// touches the socket only while the deadline (and so the read) is there.
class ReadDeadline {
 public:
  template <typename Socket, typename Executor>
  ReadDeadline(Socket& socket, const Executor& strand, std::chrono::milliseconds limit)
      : timer_(strand), state_(std::make_shared<State>()) {
    timer_.expires_after(limit);
    timer_.async_wait([&socket, state = state_](const boost::system::error_code& waited) {
      if (waited || !state->reading) return;
      state->expired = true;
      boost::system::error_code ignored;
      socket.cancel(ignored);
    });
  }
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;
  ~ReadDeadline() {
    state_->reading = false;
    timer_.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    bool reading = true;
    bool expired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

// 408, for a request whose `part` ("head", "body") did not arrive in time.
Response requestTimeout(std::string_view part, std::chrono::milliseconds limit) {
  Response response{beast_http::status::request_timeout, 11};
  response.set("x-amzn-ErrorType", "RequestTimeoutException");
  response.set(beast_http::field::content_type, "application/json");
  response.body() = nlohmann::json{
      {"Type", "User"},
      {"message",
       "The request's " + std::string(part) + " did not arrive within " +
           std::to_string(limit.count()) +
           " ms"}}.dump();
  return response;
}

}  // namespace

template <typename Acceptor>
asio::awaitable<void> Server::acceptLoop(Acceptor& acceptor) {
  // After a failed accept (out of file descriptors: the pending connection
  // stays queued, so the next accept fails at once), wait before the next:
  // 5 ms, doubling to a second, as Go's net/http does. Without the wait the
  // loop spun a core and wrote its warning some 500,000 times a second.
  std::chrono::milliseconds backoff{0};
  asio::steady_timer pause(acceptor.get_executor());
  while (acceptor.is_open()) {
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      backoff = std::min<std::chrono::milliseconds>(
          backoff == backoff.zero() ? kAcceptBackoff : 2 * backoff, kMaxAcceptBackoff);
      spdlog::warn("accept: {} (retrying in {} ms)", ec.message(), backoff.count());
      pause.expires_after(backoff);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    backoff = backoff.zero();
    auto [peer, peer_uid] = describePeer(socket);
    // Each connection on a strand of its own: its timers' handlers touch its
    // socket and never run while its coroutine does.
    asio::co_spawn(asio::make_strand(io_), serve(std::move(socket), std::move(peer), peer_uid),
                   asio::detached);
  }
}

template <typename Socket>
asio::awaitable<void> Server::serve(Socket socket, std::string peer,
                                    std::optional<uint32_t> peer_uid) {
  boost::beast::flat_buffer buffer;
  const auto strand = co_await asio::this_coro::executor;
  for (;;) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.body_limit(options_.body_limit);
    parser.header_limit(kHeaderLimit);
    boost::system::error_code ec;
    // The head within header_timeout, else the read is cancelled.
    std::optional<ReadDeadline> deadline;
    deadline.emplace(socket, strand, options_.header_timeout);
    co_await beast_http::async_read_header(socket, buffer, parser,
                                           asio::redirect_error(asio::use_awaitable, ec));
    const bool head_expired = deadline->expired();
    deadline.reset();
    if (ec && head_expired) {
      // Idle between requests: closed quietly. Part of a head: 408.
      if (parser.got_some())
        co_await answerAndClose(socket, requestTimeout("head", options_.header_timeout));
      co_return;
    }
    if (!ec && !parser.is_done() && options_.refuse_head) {
      const auto length = parser.content_length();
      Request head = requestHead(parser.get());
      head.peer = peer;
      head.peer_uid = peer_uid;
      if (auto refusal = options_.refuse_head(
              head, length ? std::optional<uint64_t>(*length) : std::nullopt)) {
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
    if (!ec && !parser.is_done()) {
      // And its body within body_timeout of its head (a small body is read
      // before its signature is checked: without this, anyone could hold a
      // connection by never sending the bytes its Content-Length promised).
      deadline.emplace(socket, strand, options_.body_timeout);
      co_await beast_http::async_read(socket, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
      const bool expired = deadline->expired();
      deadline.reset();
      if (ec && expired) {
        co_await answerAndClose(socket, requestTimeout("body", options_.body_timeout));
        co_return;
      }
    }
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
    const beast_http::verb method = message.method();
    Request request = requestHead(message, false);
    request.body = std::move(message.body());
    request.headers = std::move(static_cast<beast_http::fields&>(message.base()));
    if constexpr (std::is_same_v<Socket, asio::ip::tcp::socket>) {
      if (auto remote = socket.remote_endpoint(ec); !ec)
        request.peer_address = remote.address().to_string();
      if (auto local = socket.local_endpoint(ec); !ec) request.local_port = local.port();
      ec.clear();
    }
    request.peer = peer;
    request.peer_uid = peer_uid;

    ResponseStream stream(&socket, version, keep_alive, method == beast_http::verb::head);
    request.stream = &stream;
    Response response = co_await handler_(std::move(request));
    if (stream.begun()) {  // the handler wrote its response itself
      if (stream.reusable()) continue;
      // An HTTP/1.0 body ends with the connection, and so does one cut off.
      if (!stream.failed()) co_await lingeringClose(socket);
      co_return;
    }
    response.version(version);
    response.keep_alive(keep_alive);
    // RFC 9110 6.4.1: a 204 or 304 has no content, and a HEAD's answer
    // sends only its head; bytes after it would be read as the next response.
    const unsigned status = response.result_int();
    if (status == 204 || status == 304) response.body().clear();
    response.prepare_payload();
    if (method == beast_http::verb::head) {
      beast_http::response_serializer<beast_http::string_body> serializer(response);
      co_await beast_http::async_write_header(socket, serializer,
                                              asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await beast_http::async_write(socket, response,
                                       asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) co_return;
    if (!keep_alive) {
      co_await lingeringClose(socket);
      co_return;
    }
  }
}

template <typename Socket>
asio::awaitable<void> Server::refuse(Socket& socket, boost::system::error_code error) {
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

template <typename Socket>
asio::awaitable<void> Server::answerAndClose(Socket& socket, Response response) {
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

template <typename Socket>
asio::awaitable<void> Server::lingeringClose(Socket& socket) {
  // RFC 9112 9.6: shut our side, then drop what the client still sends (a
  // refused body, a request after one whose answer ends with the connection)
  // until it closes, for a bounded time: closing with unread input would reset
  // the connection, and the reset discards what the client has not read yet.
  boost::system::error_code ec;
  socket.shutdown(Socket::shutdown_send, ec);
  if (ec) co_return;                                                // already gone
  asio::steady_timer deadline(co_await asio::this_coro::executor);  // the connection's strand
  deadline.expires_after(kLingerTime);
  // The wait may complete after this coroutine is gone (its completion queued
  // as the read ended): it touches the socket only while the read is on.
  auto reading = std::make_shared<bool>(true);
  deadline.async_wait([&socket, reading](const boost::system::error_code& waited) {
    if (!waited && *reading) socket.close();
  });
  std::array<char, 65536> sink;
  while (!ec)
    co_await socket.async_read_some(asio::buffer(sink),
                                    asio::redirect_error(asio::use_awaitable, ec));
  *reading = false;
  deadline.cancel();
}

bool expectsContinue(const beast_http::request<beast_http::string_body>& request) {
  auto expect = request.find(beast_http::field::expect);
  return request.version() >= 11 && expect != request.end() &&
         boost::beast::iequals(expect->value(), "100-continue");
}

}  // namespace wick::http
