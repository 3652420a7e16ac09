#include "host/invoke/payload_json.h"

#include <simdjson.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace wick::invoke {

bool isJson(std::string_view text) {
  // One parser per I/O thread, reused: its buffers grow to the largest
  // payload once instead of being allocated per invoke.
  thread_local simdjson::dom::parser parser;
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: it copies into a
  // padded buffer of its own when the caller's has no room (realloc_if_needed).
  auto document = parser.parse(text.data(), text.size(), true);
  if (!document.error()) return true;
  // simdjson's limits are not JSON's (numbers beyond double's range, nesting
  // deeper than 1024) and a refusal is rare: the verdict on anything it does
  // not accept is the same DOM parser's as before, so nothing valid is refused.
  return nlohmann::json::accept(text);
}

nlohmann::json embeddableJson(std::string_view bytes) {
  if (jsonNesting(bytes) > kMaxDomNesting) return nlohmann::json(std::string(bytes));
  nlohmann::json parsed = nlohmann::json::parse(bytes, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(std::string(bytes)) : parsed;
}

size_t jsonNesting(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace wick::invoke
