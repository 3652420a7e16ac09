#include "host/http/response_stream.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace wick::http {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

namespace {

// `write(stream)` on whichever socket it is; the error, if any.
template <typename Write>
asio::awaitable<boost::system::error_code> onSocket(ResponseStream::Socket socket, Write write) {
  boost::system::error_code ec;
  const auto completion = asio::redirect_error(asio::use_awaitable, ec);
  if (auto* tcp = std::get_if<asio::ip::tcp::socket*>(&socket))
    co_await write(**tcp, completion);
  else
    co_await write(*std::get<asio::local::stream_protocol::socket*>(socket), completion);
  co_return ec;
}

}  // namespace

asio::awaitable<void> ResponseStream::begin(Head head) {
  begun_ = true;
  head.version(version_);
  beast_http::response<beast_http::empty_body> response(std::move(head));
  const unsigned status = response.result_int();
  const bool no_content = status == 204 || status == 304;
  bodiless_ = head_only_ || no_content;
  if (version_ >= 11) {
    if (!no_content) response.chunked(true);
    response.keep_alive(keep_alive_);
  } else {
    response.keep_alive(false);  // the end of the connection ends the body
  }
  beast_http::response_serializer<beast_http::empty_body> serializer(response);
  auto ec = co_await onSocket(socket_, [&serializer](auto& stream, auto completion) {
    return beast_http::async_write_header(stream, serializer, completion);
  });
  if (ec) failed_ = true;
}

asio::awaitable<void> ResponseStream::write(std::string_view bytes) {
  if (failed_ || bodiless_ || bytes.empty()) co_return;
  const asio::const_buffer buffer(bytes.data(), bytes.size());
  const bool chunked = version_ >= 11;
  auto ec = co_await onSocket(socket_, [&buffer, chunked](auto& stream, auto completion) {
    if (chunked) return asio::async_write(stream, beast_http::make_chunk(buffer), completion);
    return asio::async_write(stream, buffer, completion);
  });
  if (ec) failed_ = true;
}

asio::awaitable<void> ResponseStream::end() {
  ended_ = true;
  if (failed_ || bodiless_ || version_ < 11) co_return;
  auto ec = co_await onSocket(socket_, [](auto& stream, auto completion) {
    return asio::async_write(stream, beast_http::make_chunk_last(), completion);
  });
  if (ec) failed_ = true;
}

}  // namespace wick::http
