#include "host/logs/filter_pattern.h"

#include <algorithm>
#include <cctype>

namespace wick::logs {

namespace {

bool isSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool contains(std::string_view message, const std::string& term) {
  return message.find(term) != std::string_view::npos;
}

}  // namespace

Result<FilterPattern> FilterPattern::parse(std::string_view text) {
  FilterPattern pattern;
  size_t i = 0;
  auto skipSpace = [&] {
    while (i < text.size() && isSpace(text[i]))
      ++i;
  };
  skipSpace();
  if (i < text.size() && (text[i] == '{' || text[i] == '['))
    return Error(
        "JSON and space-delimited filter patterns are not supported by wick; use terms, "
        "\"quoted phrases\", ?term and -term",
        EINVAL);
  while (skipSpace(), i < text.size()) {
    std::vector<std::string>* into = &pattern.all_;
    if (text[i] == '?' || text[i] == '-') {
      into = text[i] == '?' ? &pattern.any_ : &pattern.none_;
      ++i;
    }
    std::string term;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        term += text[i];
      }
      if (i >= text.size()) return Error("unterminated quoted term in the filter pattern", EINVAL);
      ++i;  // the closing quote
    } else {
      while (i < text.size() && !isSpace(text[i]))
        term += text[i++];
    }
    if (!term.empty()) into->push_back(std::move(term));
  }
  return pattern;
}

bool FilterPattern::matches(std::string_view message) const {
  auto in = [&](const std::string& term) { return contains(message, term); };
  return std::all_of(all_.begin(), all_.end(), in) &&
         (any_.empty() || std::any_of(any_.begin(), any_.end(), in)) &&
         std::none_of(none_.begin(), none_.end(), in);
}

}  // namespace wick::logs
