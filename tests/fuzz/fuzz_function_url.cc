// libFuzzer: what a function URL reads from strangers and from functions.
// The input is split in parts: a Host header, a path, a query, a header
// value, a body (URL requests), and a function result. Properties: routing
// never names a url-id that is not one; the 2.0 event is always valid JSON
// whatever bytes the request carries; a mapped result never puts a line
// break into a response header.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/urls/cors.h"
#include "host/urls/url_event.h"
#include "host/urls/url_response.h"
#include "host/urls/url_route.h"

namespace {

std::vector<std::string> parts(const uint8_t* data, size_t size, size_t count) {
  // Parts are separated by 0xff 0x00 (rare in text, easy for the fuzzer to find).
  std::vector<std::string> out(count);
  size_t part = 0;
  for (size_t i = 0; i < size; ++i) {
    if (i + 1 < size && data[i] == 0xff && data[i + 1] == 0x00 && part + 1 < count) {
      ++part;
      ++i;
      continue;
    }
    out[part] += static_cast<char>(data[i]);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wick;
  const auto p = parts(data, size, 6);
  if (auto route = urls::routeRequest(p[0], p[1], "us-east-1", "localhost")) {
    if (!urls::isUrlId(route->url_id) || route->raw_path.empty()) std::abort();
  }
  http::Request request;
  request.method = http::beast_http::verb::post;
  request.path = p[1];
  request.raw_query = p[2];
  request.query.emplace(p[2], p[3]);
  try {
    request.headers.set("X-Fuzz", p[3]);
    request.headers.set("Cookie", p[3]);
    request.headers.set("Content-Type", p[3]);
  } catch (...) {
    // Beast refuses some field values; the server would never have parsed them.
  }
  request.body = p[4];
  urls::EventContext context;
  context.raw_path = p[1];
  context.source_ip = p[0];
  if (!nlohmann::json::accept(urls::eventJson(request, context))) std::abort();
  if (auto response = urls::mapFunctionResult(p[5])) {
    for (const auto& field : *response)
      for (char c : field.value())
        if (c == '\r' || c == '\n') std::abort();
  }
  const auto cors = nlohmann::json::parse(p[5], nullptr, false);
  if (!cors.is_discarded()) (void)urls::parseCors(cors);
  return 0;
}
