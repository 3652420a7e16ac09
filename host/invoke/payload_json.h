// Whether an invoke payload is JSON (Lambda refuses anything else with
// InvalidRequestContentException). Payloads are up to 6 MB on the hot path:
// simdjson validates at gigabytes a second where a DOM parser took ~10 ms a MB.
#pragma once

#include <string_view>

namespace wick::invoke {

bool isJson(std::string_view text);

}  // namespace wick::invoke
