// A strict, incremental HTTP/1.1 request parser for the Runtime API. The
// runtime is untrusted: every size is bounded, anything malformed is an error
// with the status to answer.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wick::agent {

struct HttpRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  bool keep_alive = true;
  bool http10 = false;           // HTTP/1.0: never sent 100 Continue, keep-alive only when asked
  bool expect_continue = false;  // "Expect: 100-continue": the client waits before its body
  bool streamed = false;         // the body was handed out as it came (takeBody), not gathered
  // The value of a header (names compared lower-case), or "".
  std::string header(std::string_view name) const;
  // How many times a header (lower-case name) appears.
  size_t count(std::string_view name) const;
};

class HttpRequestParser {
 public:
  enum class Status { kNeedMore, kComplete, kError };
  static constexpr size_t kMaxHeaderBytes = 64 << 10;  // request line + headers, and trailers
  static constexpr size_t kMaxHeaders = 100;           // headers + trailers

  explicit HttpRequestParser(size_t max_body) : max_body_(max_body), limit_(max_body) {}

  // Asked once the headers of a request are in, before any of its body is
  // taken: a non-zero answer streams that body (takeBody() hands out what
  // has been parsed, nothing is gathered) with that many bytes at most.
  using StreamChooser = std::function<size_t(const HttpRequest&)>;
  void setStreamChooser(StreamChooser chooser) { chooser_ = std::move(chooser); }
  // The request being read streams its body.
  bool streaming() const { return request_.streamed; }
  // The body bytes parsed since the last call (a streaming request).
  std::string takeBody() { return std::exchange(request_.body, std::string()); }

  // Consumes bytes from the front of `input`. On kComplete, request() holds
  // the request and the parser is ready for the next one (keep-alive); on
  // kError, errorStatus() is the status to answer (400, 413, 431, 501).
  Status parse(std::string& input);
  HttpRequest& request() { return request_; }
  int errorStatus() const { return error_status_; }
  // Headers were read (target known) even if the body was refused.
  bool headersDone() const { return state_ != State::kHeaders; }
  // The headers are in and the body has not come yet (an Expect: 100-continue
  // client waits for our answer here).
  bool awaitingBody() const { return state_ != State::kHeaders && !body_started_; }
  void reset();

 private:
  enum class State { kHeaders, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers };
  Status fail(int status) {
    error_status_ = status;
    return Status::kError;
  }
  Status parseHeaders(std::string_view head);

  size_t max_body_;
  size_t limit_;           // this request's: max_body_, or the stream chooser's
  size_t body_total_ = 0;  // body bytes of this request so far (taken ones too)
  StreamChooser chooser_;
  State state_ = State::kHeaders;
  HttpRequest request_;
  size_t body_left_ = 0;
  bool body_started_ = false;
  int error_status_ = 0;
};

}  // namespace wick::agent
