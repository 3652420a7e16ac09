// CloudWatch Logs filter patterns for unstructured messages: terms that must
// all appear (`ERROR ARGUMENTS`), quoted phrases (`"timed out"`), `?a ?b` (at
// least one of them), `-term` (must not appear). Case-sensitive, as CloudWatch
// matches. JSON (`{ $.x = 1 }`) and space-delimited (`[ip, user]`) patterns are
// refused with a reason rather than matched wrongly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wick::logs {

class FilterPattern {
 public:
  static Result<FilterPattern> parse(std::string_view text);
  bool matches(std::string_view message) const;

 private:
  std::vector<std::string> all_;
  std::vector<std::string> any_;
  std::vector<std::string> none_;
};

}  // namespace wick::logs
