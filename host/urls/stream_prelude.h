// The HTTP-integration prelude of a streamed function URL response
// (../shared/reference/events.md 5.4): the JSON metadata a function writes
// first (awslambda.HttpResponseStream.from), ended by 8 NUL bytes, then the
// body. The bytes arrive in chunks that may split the prelude anywhere; this
// keeps them until the delimiter and then says where the body begins.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wick::urls {

// The runtime's content type that announces a prelude.
inline constexpr std::string_view kHttpIntegrationType =
    "application/vnd.awslambda.http-integration-response";

// True when a stream's content type is kHttpIntegrationType (any case, any
// parameters).
bool announcesPrelude(std::string_view content_type);

class PreludeSplitter {
 public:
  enum class State {
    kReading,  // no delimiter yet: the bytes are held
    kFound,    // prelude() is the JSON; take() the body bytes after it
    kAbsent,   // no delimiter within the limit: take() is everything, as body
  };
  // The most held before giving up (the prelude is a few headers; a stream
  // that writes this much without the delimiter has none).
  static constexpr size_t kDefaultLimit = 64 * 1024;

  explicit PreludeSplitter(size_t limit = kDefaultLimit) : limit_(limit) {}

  // Adds the stream's next bytes. Once the state is not kReading, later
  // bytes are the caller's (feed only while reading).
  State feed(std::string_view bytes);
  // The stream ended while reading: what was held is body (kAbsent).
  State finish();

  State state() const { return state_; }
  const std::string& prelude() const { return prelude_; }
  // The body bytes held so far (once; empty after).
  std::string take() { return std::move(held_); }

 private:
  size_t limit_;
  State state_ = State::kReading;
  std::string held_;
  std::string prelude_;
};

}  // namespace wick::urls
