#include "host/cli/daemon_client.h"

// clang-format off
#include <utility>
// clang-format on

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>

namespace wick::cli {

namespace http = boost::beast::http;
using boost::asio::ip::tcp;

std::string defaultEndpoint() {
  const char* env = std::getenv("WICK_ENDPOINT");
  return env && *env ? env : "http://127.0.0.1:3001";
}

Result<HttpReply> httpGet(const std::string& endpoint, const std::string& target) {
  std::string rest = endpoint;
  if (rest.starts_with("http://")) rest = rest.substr(7);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon = rest.rfind(':');
  const std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    boost::beast::tcp_stream stream(io);
    stream.connect(resolver.resolve(host, port));
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    http::write(stream, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return HttpReply{static_cast<int>(response.result_int()), std::move(response.body())};
  } catch (const boost::system::system_error& e) {
    return Error("wickd at " + endpoint + ": " + e.code().message(), e.code().value());
  }
}

}  // namespace wick::cli
