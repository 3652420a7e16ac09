#include "host/urls/url_event.h"

#include <algorithm>
#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/trim.hpp>
#include <ctime>
#include <map>

#include "common/encoding.h"

namespace wick::urls {

using nlohmann::json;

namespace {

std::vector<std::string> splitOn(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t at = text.find(separator, start);
    std::string part(text.substr(start, at == std::string_view::npos ? at : at - start));
    boost::algorithm::trim(part);
    if (!part.empty()) parts.push_back(std::move(part));
    if (at == std::string_view::npos) return parts;
    start = at + separator.size();
  }
}

}  // namespace

bool isTextContent(std::string_view content_type) {
  std::string type =
      boost::algorithm::to_lower_copy(std::string(content_type.substr(0, content_type.find(';'))));
  boost::algorithm::trim(type);
  if (type.empty() || type.starts_with("text/")) return true;
  for (const char* textual : {"application/json", "application/javascript", "application/xml",
                              "application/x-www-form-urlencoded", "application/graphql",
                              "application/x-yaml", "application/yaml", "application/ld+json"})
    if (type == textual) return true;
  return type.ends_with("+json") || type.ends_with("+xml");
}

bool isValidUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= extra; ++k) {
      if (i + k >= bytes.size()) return false;
      const auto next = static_cast<unsigned char>(bytes[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and beyond U+10FFFF are not UTF-8.
    if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) ||
        (extra == 3 && (code < 0x10000 || code > 0x10FFFF)) || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

std::string requestTime(int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%d/%b/%Y:%H:%M:%S +0000", &utc);
  return text;
}

std::string sourceIp(std::string_view peer, std::string_view forwarded_for,
                     const std::vector<std::string>& trusted_proxies) {
  auto trusted = [&](std::string_view address) {
    return std::find(trusted_proxies.begin(), trusted_proxies.end(), address) !=
           trusted_proxies.end();
  };
  if (!trusted(peer)) return std::string(peer);
  const std::vector<std::string> hops = splitOn(forwarded_for, ",");
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop)
    if (!trusted(*hop)) return *hop;
  return hops.empty() ? std::string(peer) : hops.front();
}

json buildEvent(const http::Request& request, const EventContext& context) {
  json headers = json::object();
  std::vector<std::string> cookies;
  for (const auto& field : request.headers) {
    std::string name = boost::algorithm::to_lower_copy(std::string(field.name_string()));
    const std::string value(field.value());
    if (name == "cookie") {
      for (std::string& cookie : splitOn(value, ";"))
        cookies.push_back(std::move(cookie));
      continue;
    }
    // Set by the URL layer below, as Lambda's front end does.
    if (name == "x-forwarded-for" || name == "x-forwarded-proto" || name == "x-forwarded-port")
      continue;
    if (headers.contains(name))
      headers[name] = headers[name].get<std::string>() + "," + value;
    else
      headers[name] = value;
  }
  headers["x-forwarded-for"] = context.forwarded_for;
  headers["x-forwarded-proto"] = context.forwarded_proto;
  headers["x-forwarded-port"] = context.forwarded_port;
  if (!headers.contains("x-amzn-trace-id")) headers["x-amzn-trace-id"] = context.trace_id;

  json event = {{"version", "2.0"},
                {"routeKey", "$default"},
                {"rawPath", context.raw_path},
                {"rawQueryString", request.raw_query}};
  if (!cookies.empty()) event["cookies"] = cookies;
  event["headers"] = std::move(headers);
  if (!request.query.empty()) {
    std::map<std::string, std::string> parameters;
    for (const auto& [key, value] : request.query) {
      auto [it, inserted] = parameters.emplace(key, value);
      if (!inserted) it->second += "," + value;
    }
    event["queryStringParameters"] = parameters;
  }
  const std::string method(http::beast_http::to_string(request.method));
  event["requestContext"] = {{"accountId", context.account_id},
                             {"apiId", context.url_id},
                             {"domainName", context.domain_name},
                             {"domainPrefix", context.url_id},
                             {"http",
                              {{"method", method},
                               {"path", context.raw_path},
                               {"protocol", "HTTP/1.1"},
                               {"sourceIp", context.source_ip},
                               {"userAgent", request.header("User-Agent")}}},
                             {"requestId", context.request_id},
                             {"routeKey", "$default"},
                             {"stage", "$default"},
                             {"time", requestTime(context.epoch_ms)},
                             {"timeEpoch", context.epoch_ms}};
  if (!context.authorizer.is_null()) event["requestContext"]["authorizer"] = context.authorizer;
  const bool as_text = isTextContent(request.header("Content-Type")) && isValidUtf8(request.body);
  if (!request.body.empty()) event["body"] = as_text ? request.body : base64Encode(request.body);
  event["isBase64Encoded"] = !as_text && !request.body.empty();
  return event;
}

}  // namespace wick::urls
