#include "host/http/response_stream.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace wick::http {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

asio::awaitable<void> ResponseStream::begin(Head head) {
  begun_ = true;
  head.version(version_);
  beast_http::response<beast_http::empty_body> response(std::move(head));
  if (version_ >= 11) {
    response.chunked(true);
    response.keep_alive(keep_alive_);
  } else {
    response.keep_alive(false);  // the end of the connection ends the body
  }
  beast_http::response_serializer<beast_http::empty_body> serializer(response);
  boost::system::error_code ec;
  co_await beast_http::async_write_header(socket_, serializer,
                                          asio::redirect_error(asio::use_awaitable, ec));
  if (ec) failed_ = true;
}

asio::awaitable<void> ResponseStream::write(std::string_view bytes) {
  if (failed_ || bytes.empty()) co_return;
  boost::system::error_code ec;
  if (version_ >= 11)
    co_await asio::async_write(
        socket_, beast_http::make_chunk(asio::const_buffer(bytes.data(), bytes.size())),
        asio::redirect_error(asio::use_awaitable, ec));
  else
    co_await asio::async_write(socket_, asio::const_buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  if (ec) failed_ = true;
}

asio::awaitable<void> ResponseStream::end() {
  ended_ = true;
  if (failed_ || version_ < 11) co_return;
  boost::system::error_code ec;
  co_await asio::async_write(socket_, beast_http::make_chunk_last(),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) failed_ = true;
}

}  // namespace wick::http
