// Whether an invoke payload is JSON (Lambda refuses anything else with
// InvalidRequestContentException). Payloads are up to 6 MB on the hot path:
// simdjson validates at gigabytes a second where a DOM parser took ~10 ms a MB.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace wick::invoke {

bool isJson(std::string_view text);

// How deeply JSON `text` nests (its brackets outside strings), without
// parsing it. nlohmann's dump() recurses once per level: JSON deeper than
// kMaxDomNesting is never parsed into a DOM that is then dumped (1 MB of
// nested arrays overflowed a worker's stack).
size_t jsonNesting(std::string_view text);
constexpr size_t kMaxDomNesting = 1024;  // simdjson's own default limit

// `bytes` as a JSON value to embed in a document of ours (a record, an
// event): parsed when it is JSON no deeper than kMaxDomNesting, else the
// string it is.
nlohmann::json embeddableJson(std::string_view bytes);

}  // namespace wick::invoke
