#include "host/invoke/payload_json.h"

#include <simdjson.h>

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

}  // namespace wick::invoke
