#include "host/cli/daemon_client.h"

// clang-format off
#include <utility>
// clang-format on

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/default_state_dir.h"

namespace wick::cli {

namespace http = boost::beast::http;
using boost::asio::ip::tcp;

namespace {

template <typename Stream>
HttpReply exchange(Stream& stream, http::verb method, const std::string& target,
                   const std::string& host, const std::string* json_body) {
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, host);
  if (json_body != nullptr) {
    request.set(http::field::content_type, "application/json");
    request.body() = *json_body;
  }
  request.prepare_payload();
  http::write(stream, request);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(stream, buffer, parser);
  auto response = parser.release();
  return HttpReply{static_cast<int>(response.result_int()), std::move(response.body())};
}

Result<HttpReply> send(const std::string& endpoint, http::verb method, const std::string& target,
                       const std::string* json_body) {
  try {
    boost::asio::io_context io;
    if (endpoint.starts_with("unix:")) {
      const std::string path = endpoint.substr(5);
      boost::asio::local::stream_protocol::socket socket(io);
      boost::system::error_code ec;
      socket.connect(boost::asio::local::stream_protocol::endpoint(path), ec);
      if (ec == boost::system::errc::permission_denied)
        return Error("wickd at " + endpoint + ": " + ec.message() +
                         " (the admin socket is root's: run wick as root)",
                     ec.value());
      if (ec) throw boost::system::system_error(ec);
      return exchange(socket, method, target, "localhost", json_body);
    }
    std::string rest = endpoint;
    if (rest.starts_with("http://")) rest = rest.substr(7);
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    size_t colon = rest.rfind(':');
    const std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
    const std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    tcp::resolver resolver(io);
    boost::beast::tcp_stream stream(io);
    stream.connect(resolver.resolve(host, port));
    HttpReply reply = exchange(stream, method, target, host, json_body);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return reply;
  } catch (const boost::system::system_error& e) {
    return Error("wickd at " + endpoint + ": " + e.code().message(), e.code().value());
  }
}

}  // namespace

std::string defaultEndpoint() {
  const char* env = std::getenv("WICK_ENDPOINT");
  return env && *env ? env : "unix:" + defaultStateDir() + "/wickd.sock";
}

Result<HttpReply> httpGet(const std::string& endpoint, const std::string& target) {
  return send(endpoint, http::verb::get, target, nullptr);
}

Result<HttpReply> httpPost(const std::string& endpoint, const std::string& target,
                           const std::string& json_body) {
  return send(endpoint, http::verb::post, target, &json_body);
}

Result<HttpReply> httpDelete(const std::string& endpoint, const std::string& target) {
  return send(endpoint, http::verb::delete_, target, nullptr);
}

std::string errorMessage(const HttpReply& reply) {
  auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (body.is_object())
    for (const char* key : {"Message", "message"})
      if (auto it = body.find(key); it != body.end() && it->is_string())
        return it->get<std::string>();
  return "wickd answered " + std::to_string(reply.status) + ": " + reply.body.substr(0, 200);
}

Result<nlohmann::json> jsonReply(Result<HttpReply> reply) {
  if (!reply) return std::move(reply).error();
  if (reply->status < 200 || reply->status >= 300) return Error(errorMessage(*reply));
  auto body = nlohmann::json::parse(reply->body, nullptr, false);
  if (body.is_discarded())
    return Error("wickd answered " + std::to_string(reply->status) +
                 " with a body that is not JSON");
  return body;
}

std::string encodeSegment(std::string_view text) {
  std::string out;
  char hex[4];
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace wick::cli
