#include "host/urls/url_stream.h"

#include <spdlog/spdlog.h>

#include "host/api/aws_error.h"
#include "host/urls/stream_prelude.h"
#include "host/urls/url_response.h"

namespace wick::urls {

namespace asio = boost::asio;
namespace beast_http = http::beast_http;

void addHeaders(beast_http::fields& fields, const Headers& headers) {
  for (const auto& [name, value] : headers)
    if (name != "Vary") fields.erase(name);
  for (const auto& [name, value] : headers)
    fields.insert(name, value);
}

namespace {

// Turns the function's chunks into the client's response.
class UrlStreamWriter {
 public:
  UrlStreamWriter(http::ResponseStream& stream, const Headers& extra, std::string function)
      : stream_(stream), extra_(extra), function_(std::move(function)) {}

  asio::awaitable<void> chunk(invoke::ResponseChunk& chunk) {
    if (!started_) {
      started_ = true;
      with_prelude_ = announcesPrelude(chunk.content_type);
      content_type_ = chunk.content_type.empty() ? "application/octet-stream" : chunk.content_type;
    }
    if (discarding_) co_return;
    if (!with_prelude_ || splitter_.state() != PreludeSplitter::State::kReading) {
      co_await body(chunk.data);
      co_return;
    }
    if (splitter_.feed(chunk.data) == PreludeSplitter::State::kReading) co_return;
    co_await afterPrelude();
  }

  // The function's stream ended. Nothing sent yet: the head now (an empty
  // body is still a response).
  asio::awaitable<void> finish() {
    if (with_prelude_ && splitter_.state() == PreludeSplitter::State::kReading) {
      splitter_.finish();
      co_await afterPrelude();
    }
    if (discarding_) co_return;
    if (!stream_.begun()) co_await begin(plainHead());
    co_await stream_.end();
  }

  bool begun() const { return stream_.begun(); }

 private:
  asio::awaitable<void> afterPrelude() {
    if (splitter_.state() == PreludeSplitter::State::kAbsent) {
      spdlog::debug("function URL of {}: no prelude delimiter within {} bytes: all body", function_,
                    PreludeSplitter::kDefaultLimit);
      content_type_ = "application/octet-stream";
      std::string held = splitter_.take();
      co_await body(held);
      co_return;
    }
    auto mapped = mapPrelude(splitter_.prelude());
    if (!mapped) {
      // As a buffered result that maps to nothing: 502, and the rest dropped.
      spdlog::info("function URL of {}: the response prelude is not valid: 502", function_);
      discarding_ = true;
      http::Response error = internalError();
      http::ResponseStream::Head head = std::move(error.base());
      co_await begin(std::move(head));
      co_await stream_.write(error.body());
      co_await stream_.end();
      co_return;
    }
    http::ResponseStream::Head head = std::move(mapped->base());
    co_await begin(std::move(head));
    std::string held = splitter_.take();
    co_await stream_.write(held);
  }

  asio::awaitable<void> body(std::string_view bytes) {
    if (bytes.empty()) co_return;
    if (!stream_.begun()) co_await begin(plainHead());
    co_await stream_.write(bytes);
  }

  http::ResponseStream::Head plainHead() const {
    http::ResponseStream::Head head;
    head.result(beast_http::status::ok);
    head.set(beast_http::field::content_type,
             with_prelude_ ? std::string("application/octet-stream") : content_type_);
    return head;
  }

  asio::awaitable<void> begin(http::ResponseStream::Head head) {
    addHeaders(head, extra_);
    co_await stream_.begin(std::move(head));
  }

  http::ResponseStream& stream_;
  const Headers& extra_;
  std::string function_;
  bool started_ = false;
  bool with_prelude_ = false;
  bool discarding_ = false;  // answered 502 for a bad prelude
  std::string content_type_;
  PreludeSplitter splitter_;
};

}  // namespace

asio::awaitable<http::Response> streamUrlResponse(
    invoke::Invoker& invoker, const http::Request& invoke, const std::string& function,
    const std::string& request_id, http::ResponseStream& stream, const Headers& extra) {
  UrlStreamWriter writer(stream, extra, function);
  invoke::StreamReceiver receiver;
  receiver.admitted = [](const std::string&) {};
  receiver.chunk = [&writer](invoke::ResponseChunk& chunk) -> asio::awaitable<void> {
    co_await writer.chunk(chunk);
  };
  auto invoked = co_await invoker.invokeStreaming(invoke, function, request_id, receiver);
  if (auto* error = std::get_if<api::AwsError>(&invoked)) {
    // Errors come before the event runs: nothing is sent yet.
    if (!writer.begun()) co_return urlResponse(api::toResponse(*error, request_id));
    co_return http::Response{};
  }
  const invoke::InvokeOutcome& outcome = std::get<invoke::StreamedInvoke>(invoked).outcome;
  if (outcome.kind != invoke::InvokeOutcome::Kind::kSuccess) {
    if (!writer.begun()) co_return internalError();
    // After the first byte: the connection ends without the last chunk (the
    // client sees the body cut off), as Lambda's does.
    spdlog::info("function URL of {}: {} after the response began: stream cut off", function,
                 outcome.error_type.empty() ? "the invocation failed" : outcome.error_type);
    co_return http::Response{};
  }
  if (!outcome.streamed) {
    // A function that returned its result whole: mapped as a BUFFERED URL's.
    std::optional<http::Response> mapped = mapFunctionResult(outcome.payload);
    if (!mapped) co_return internalError();
    co_return std::move(*mapped);
  }
  co_await writer.finish();
  co_return http::Response{};
}

}  // namespace wick::urls
