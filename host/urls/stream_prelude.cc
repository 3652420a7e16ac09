#include "host/urls/stream_prelude.h"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/algorithm/string/trim.hpp>

namespace wick::urls {

namespace {
constexpr std::string_view kDelimiter("\0\0\0\0\0\0\0\0", 8);
}

bool announcesPrelude(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string trimmed = boost::algorithm::trim_copy(std::string(media));
  return boost::algorithm::iequals(trimmed, kHttpIntegrationType);
}

PreludeSplitter::State PreludeSplitter::feed(std::string_view bytes) {
  if (state_ != State::kReading) return state_;
  // Only the new bytes and the 7 before them can complete the delimiter.
  const size_t from =
      held_.size() >= kDelimiter.size() - 1 ? held_.size() - (kDelimiter.size() - 1) : 0;
  held_.append(bytes);
  const size_t at = held_.find(kDelimiter, from);
  if (at != std::string::npos && at <= limit_) {
    prelude_ = held_.substr(0, at);
    held_.erase(0, at + kDelimiter.size());
    state_ = State::kFound;
  } else if (held_.size() > limit_ + kDelimiter.size()) {
    state_ = State::kAbsent;
  }
  return state_;
}

PreludeSplitter::State PreludeSplitter::finish() {
  if (state_ == State::kReading) state_ = State::kAbsent;
  return state_;
}

}  // namespace wick::urls
