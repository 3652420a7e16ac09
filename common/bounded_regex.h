// std::regex_match for text from outside (request fields, paths, queries).
// libstdc++ matches depth-first with a stack frame per character (GCC bug
// 86164): a field of some tens of kilobytes overflowed a worker's stack and
// killed wickd. Text longer than `max_length` never matches, so callers
// answer it as they answer any text that does not match.
#pragma once

#include <regex>
#include <string>

namespace wick {

// Longer than any field the Lambda API models (ARNs of 2048, policies
// aside), and far below what a thread's 8 MB stack can match.
inline constexpr size_t kMaxRegexInput = 4096;

inline bool boundedMatch(const std::string& text, const std::regex& pattern,
                         size_t max_length = kMaxRegexInput) {
  return text.size() <= max_length && std::regex_match(text, pattern);
}

inline bool boundedMatch(const std::string& text, std::smatch& match, const std::regex& pattern,
                         size_t max_length = kMaxRegexInput) {
  return text.size() <= max_length && std::regex_match(text, match, pattern);
}

}  // namespace wick
