#include "host/urls/url_response.h"

#include <simdjson.h>

#include <boost/algorithm/string/case_conv.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "host/invoke/payload_json.h"

namespace wick::urls {

using nlohmann::json;
namespace beast_http = http::beast_http;

namespace {

http::Response jsonError(unsigned status, const std::string& type, const json& message) {
  http::Response response{static_cast<beast_http::status>(status), 11};
  response.set(beast_http::field::content_type, "application/json");
  response.set("x-amzn-ErrorType", type);
  // The message may quote the request (an Authorization's algorithm): its
  // bytes that are not UTF-8 are replaced, not thrown on.
  response.body() = json{{"Message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

// A header a function sets goes on the wire as it is: it must not smuggle a
// line break (response splitting) or be no token at all.
bool isToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return false;
  return true;
}
bool isFieldValue(std::string_view value) {
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// A final status: 200 to 599. An interim one (1xx) would have the client
// take the body that follows for the response (its headers unchecked), and
// an integer beyond int must not wrap into range.
std::optional<int64_t> statusOf(const json& value) {
  int64_t status = 0;
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > 599) return std::nullopt;
    status = value.get<int64_t>();
  } else if (value.is_number_integer()) {
    status = value.get<int64_t>();
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), status);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (status < 200 || status > 599) return std::nullopt;
  return status;
}

std::string headerValue(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// The result's headers and cookies onto `response`; false when one is not
// valid. `has_type`: the function set Content-Type.
bool addFunctionHeaders(const json& result, http::Response& response, bool& has_type) {
  has_type = false;
  if (result.contains("headers") && !result["headers"].is_null()) {
    if (!result["headers"].is_object()) return false;
    for (const auto& [name, value] : result["headers"].items()) {
      const std::string text = headerValue(value);
      if (!isToken(name) || !isFieldValue(text)) return false;
      // The length is the body's; the connection is ours.
      const std::string lower = boost::algorithm::to_lower_copy(name);
      if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection")
        continue;
      if (lower == "content-type") has_type = true;
      response.insert(name, text);
    }
  }
  if (result.contains("cookies") && !result["cookies"].is_null()) {
    if (!result["cookies"].is_array()) return false;
    for (const json& cookie : result["cookies"]) {
      if (!cookie.is_string() || !isFieldValue(cookie.get_ref<const std::string&>())) return false;
      response.insert(beast_http::field::set_cookie, cookie.get<std::string>());
    }
  }
  return true;
}

std::optional<http::Response> structured(const json& result) {
  auto status = statusOf(result["statusCode"]);
  if (!status) return std::nullopt;
  http::Response response{static_cast<beast_http::status>(*status), 11};
  bool has_type = false;
  if (!addFunctionHeaders(result, response, has_type)) return std::nullopt;
  if (!has_type) response.set(beast_http::field::content_type, "application/json");
  if (result.contains("body") && !result["body"].is_null()) {
    const json& body = result["body"];
    if (!body.is_string()) {
      response.body() = body.dump();
    } else if (result.value("isBase64Encoded", false) == true) {
      auto decoded = base64Decode(body.get_ref<const std::string&>());
      if (!decoded) return std::nullopt;
      response.body() = std::move(*decoded);
    } else {
      response.body() = body.get<std::string>();
    }
  }
  return response;
}

// The common case on the hot path, with simdjson (a DOM of nlohmann::json
// costs tens of microseconds for a 1 KB result): anything but an object with
// statusCode is a 200 whose body is the JSON, compact (a string: its value).
// Nullopt when it is such an object, or when simdjson does not take the text
// (its limits are not JSON's): the full mapping decides then.
std::optional<http::Response> plainResult(std::string_view payload) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element result;
  if (parser.parse(payload.data(), payload.size(), true).get(result)) return std::nullopt;
  std::string body;
  if (result.is_object()) {
    if (!result["statusCode"].error()) return std::nullopt;
    body = simdjson::minify(result);
  } else if (result.is_string()) {
    body = std::string(result.get_string().value_unsafe());
  } else {
    body = simdjson::minify(result);
  }
  http::Response response{beast_http::status::ok, 11};
  response.set(beast_http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

}  // namespace

std::optional<http::Response> mapFunctionResult(std::string_view payload) {
  if (auto plain = plainResult(payload)) return plain;
  // Deeper than a DOM may be dumped (dump() recurses once per level, and a
  // function's 600 KB of nested arrays overflowed the stack): passed on as
  // it came, as JSON that is not a response is.
  if (invoke::jsonNesting(payload) > invoke::kMaxDomNesting) {
    if (!invoke::isJson(payload)) return std::nullopt;
    http::Response response{beast_http::status::ok, 11};
    response.set(beast_http::field::content_type, "application/json");
    response.body() = std::string(payload);
    return response;
  }
  json result = json::parse(payload, nullptr, false);
  if (result.is_discarded()) return std::nullopt;
  if (result.is_object() && result.contains("statusCode")) return structured(result);
  http::Response response{beast_http::status::ok, 11};
  response.set(beast_http::field::content_type, "application/json");
  response.body() = result.is_string() ? result.get<std::string>() : result.dump();
  return response;
}

std::optional<http::Response> mapPrelude(std::string_view prelude) {
  if (invoke::jsonNesting(prelude) > invoke::kMaxDomNesting) return std::nullopt;
  json result = json::parse(prelude, nullptr, false);
  if (result.is_discarded() || !result.is_object()) return std::nullopt;
  int64_t status = 200;
  if (result.contains("statusCode") && !result["statusCode"].is_null()) {
    auto given = statusOf(result["statusCode"]);
    if (!given) return std::nullopt;
    status = *given;
  }
  http::Response response{static_cast<beast_http::status>(status), 11};
  bool has_type = false;
  if (!addFunctionHeaders(result, response, has_type)) return std::nullopt;
  if (!has_type) response.set(beast_http::field::content_type, "application/octet-stream");
  return response;
}

http::Response urlResponse(const http::Response& invoked) {
  const unsigned status = invoked.result_int();
  if (status == 429) return throttled();
  if (status == 413) return payloadTooLarge();
  if (status != 200 || invoked.find("X-Amz-Function-Error") != invoked.end())
    return internalError();
  auto mapped = mapFunctionResult(invoked.body());
  return mapped ? std::move(*mapped) : internalError();
}

http::Response unknownUrl() {
  return jsonError(403, "AccessDeniedException", nullptr);
}

http::Response forbidden() {
  return jsonError(403, "AccessDeniedException",
                   "Forbidden. For troubleshooting Function URL authorization issues, see: "
                   "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html");
}

http::Response signatureRefused(unsigned status, const std::string& type,
                                const std::string& message) {
  return jsonError(status, type, message);
}

http::Response internalError() {
  http::Response response{beast_http::status::bad_gateway, 11};
  response.set(beast_http::field::content_type, "application/json");
  response.body() = "Internal Server Error";
  return response;
}

http::Response throttled() {
  return jsonError(429, "TooManyRequestsException", "Rate Exceeded.");
}

http::Response payloadTooLarge() {
  return jsonError(413, "RequestTooLargeException",
                   "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
}

}  // namespace wick::urls
