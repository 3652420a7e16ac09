#include "host/api/response_stream_api.h"

#include <spdlog/spdlog.h>

#include "host/api/aws_error.h"
#include "host/api/event_stream.h"
#include "host/http/response_stream.h"
#include "host/workers.h"

namespace wick::api {

namespace asio = boost::asio;
namespace beast_http = http::beast_http;

namespace {

// Where the event stream goes: the client's connection as it is made, or
// (a caller without one) a buffer answered whole.
class EventWriter {
 public:
  EventWriter(http::ResponseStream* stream, std::string request_id)
      : stream_(stream), request_id_(std::move(request_id)) {}

  void setVersion(std::string version) { version_ = std::move(version); }

  asio::awaitable<void> send(std::string message) {
    if (!stream_) {
      buffered_ += message;
      co_return;
    }
    if (!stream_->begun()) {
      http::ResponseStream::Head first = head();
      co_await stream_->begin(std::move(first));
    }
    co_await stream_->write(message);
  }

  // The stream's end; the Response the server sends when there was no stream.
  asio::awaitable<http::Response> finish() {
    if (stream_) {
      if (!stream_->begun()) {
        http::ResponseStream::Head first = head();
        co_await stream_->begin(std::move(first));
      }
      co_await stream_->end();
      co_return http::Response{};  // not sent: the stream was
    }
    http::Response response{beast_http::status::ok, 11};
    for (const auto& field : head())
      response.set(field.name_string(), field.value());
    response.body() = std::move(buffered_);
    co_return response;
  }

  bool begun() const { return stream_ && stream_->begun(); }

 private:
  http::ResponseStream::Head head() const {
    http::ResponseStream::Head head;
    head.result(beast_http::status::ok);
    head.set("x-amzn-RequestId", request_id_);
    head.set("X-Amz-Executed-Version", version_);
    head.set(beast_http::field::content_type, "application/vnd.amazon.eventstream");
    return head;
  }

  http::ResponseStream* stream_;
  std::string request_id_;
  std::string version_ = "$LATEST";
  std::string buffered_;
};

}  // namespace

asio::awaitable<http::Response> ResponseStreamApi::handle(const http::Request& request,
                                                          const std::string& function_name,
                                                          const std::string& request_id) {
  const std::string type = request.header("X-Amz-Invocation-Type");
  if (type == "DryRun") {
    auto found = co_await wick::onWorkers(workers_, [&]() -> functions::Outcome {
      return functions_.getFunctionConfiguration(function_name, request.queryValue("Qualifier"));
    });
    if (auto* error = std::get_if<AwsError>(&found)) co_return toResponse(*error, request_id);
    http::Response response{beast_http::status::no_content, 11};
    response.set("x-amzn-RequestId", request_id);
    co_return response;
  }
  if (!type.empty() && type != "RequestResponse")
    co_return toResponse(validationError(type, "invocationType",
                                         "Member must satisfy enum value set: [RequestResponse, "
                                         "DryRun]"),
                         request_id);

  EventWriter writer(request.stream, request_id);
  invoke::StreamReceiver receiver;
  receiver.admitted = [&writer](const std::string& version) { writer.setVersion(version); };
  // Each chunk is on the client's socket before the next frame is read from
  // the agent (a client that went away: the function runs on, as on Lambda).
  receiver.chunk = [&writer](invoke::ResponseChunk& chunk) -> asio::awaitable<void> {
    if (chunk.data.empty()) co_return;
    std::string message = eventstream::payloadChunk(chunk.data);
    co_await writer.send(std::move(message));
  };
  auto invoked = co_await invoker_.invokeStreaming(request, function_name, request_id, receiver);
  if (auto* error = std::get_if<AwsError>(&invoked)) {
    if (!writer.begun()) co_return toResponse(*error, request_id);
    // Cannot happen (errors come before the event runs), but a begun stream
    // must still end with its InvokeComplete.
    std::string complete = eventstream::invokeComplete(error->type, error->message, "");
    co_await writer.send(std::move(complete));
    co_return co_await writer.finish();
  }
  invoke::StreamedInvoke& done = std::get<invoke::StreamedInvoke>(invoked);
  const invoke::InvokeOutcome& outcome = done.outcome;
  const bool failed = outcome.kind != invoke::InvokeOutcome::Kind::kSuccess;
  // A response that did not stream is one PayloadChunk (large ones in
  // pieces a message can carry).
  if (!failed && !outcome.streamed) {
    std::string_view payload = outcome.payload;
    while (!payload.empty()) {
      const size_t take = std::min(payload.size(), size_t{1} << 20);
      std::string chunk = eventstream::payloadChunk(payload.substr(0, take));
      co_await writer.send(std::move(chunk));
      payload.remove_prefix(take);
    }
  }
  // Named, not temporaries of a conditional inside co_await (GCC 12
  // destroys those twice).
  std::string error_code;
  std::string error_details;
  if (failed) {
    error_code = outcome.error_type.empty() ? "Unhandled" : outcome.error_type;
    error_details = outcome.payload;
  }
  std::string complete = eventstream::invokeComplete(error_code, error_details, done.log_tail);
  co_await writer.send(std::move(complete));
  co_return co_await writer.finish();
}

}  // namespace wick::api
