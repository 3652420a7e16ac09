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

namespace {

// The length of the valid UTF-8 sequence at bytes[i], 0 if there is none:
// overlong forms, surrogates and code points beyond U+10FFFF are not UTF-8.
size_t utf8Sequence(std::string_view bytes, size_t i) {
  const auto c = static_cast<unsigned char>(bytes[i]);
  size_t extra = 0;
  uint32_t code = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    extra = 1, code = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2, code = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3, code = c & 0x07;
  } else {
    return 0;
  }
  for (size_t k = 1; k <= extra; ++k) {
    if (i + k >= bytes.size()) return 0;
    const auto next = static_cast<unsigned char>(bytes[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) ||
      (extra == 3 && (code < 0x10000 || code > 0x10FFFF)) || (code >= 0xD800 && code <= 0xDFFF))
    return 0;
  return extra + 1;
}

// A JSON string of `text`; bytes that are not UTF-8 become U+FFFD (header
// values may carry anything).
void appendString(std::string& out, std::string_view text) {
  out += '"';
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = utf8Sequence(text, i);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void appendMember(std::string& out, std::string_view key, std::string_view value) {
  appendString(out, key);
  out += ':';
  appendString(out, value);
  out += ',';
}

}  // namespace

bool isValidUtf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const size_t length = utf8Sequence(bytes, i);
    if (length == 0) return false;
    i += length;
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

// Written straight into a string: a tree of nlohmann::json for the same
// event cost most of what a URL request adds to an Invoke.
std::string eventJson(const http::Request& request, const EventContext& context) {
  std::map<std::string, std::string> headers;
  std::vector<std::string> cookies;
  for (const auto& field : request.headers) {
    std::string name = boost::algorithm::to_lower_copy(std::string(field.name_string()));
    const std::string_view value(field.value().data(), field.value().size());
    if (name == "cookie") {
      for (std::string& cookie : splitOn(value, ";"))
        cookies.push_back(std::move(cookie));
      continue;
    }
    // Set by the URL layer below, as Lambda's front end does.
    if (name == "x-forwarded-for" || name == "x-forwarded-proto" || name == "x-forwarded-port")
      continue;
    auto [it, inserted] = headers.try_emplace(std::move(name), value);
    if (!inserted) (it->second += ',') += value;
  }
  headers["x-forwarded-for"] = context.forwarded_for;
  headers["x-forwarded-proto"] = context.forwarded_proto;
  headers["x-forwarded-port"] = context.forwarded_port;
  headers.try_emplace("x-amzn-trace-id", context.trace_id);

  std::string out;
  out.reserve(1024 + request.body.size() * 4 / 3);
  out += "{\"version\":\"2.0\",\"routeKey\":\"$default\",";
  appendMember(out, "rawPath", context.raw_path);
  appendMember(out, "rawQueryString", request.raw_query);
  if (!cookies.empty()) {
    out += "\"cookies\":[";
    for (size_t i = 0; i < cookies.size(); ++i) {
      if (i) out += ',';
      appendString(out, cookies[i]);
    }
    out += "],";
  }
  out += "\"headers\":{";
  for (const auto& [name, value] : headers)
    appendMember(out, name, value);
  out.back() = '}';
  out += ',';
  if (!request.query.empty()) {
    std::map<std::string, std::string> parameters;
    for (const auto& [key, value] : request.query) {
      auto [it, inserted] = parameters.emplace(key, value);
      if (!inserted) (it->second += ',') += value;
    }
    out += "\"queryStringParameters\":{";
    for (const auto& [key, value] : parameters)
      appendMember(out, key, value);
    out.back() = '}';
    out += ',';
  }
  out += "\"requestContext\":{";
  appendMember(out, "accountId", context.account_id);
  appendMember(out, "apiId", context.url_id);
  if (!context.authorizer.is_null())
    out += "\"authorizer\":" +
           context.authorizer.dump(-1, ' ', false, json::error_handler_t::replace) + ",";
  appendMember(out, "domainName", context.domain_name);
  appendMember(out, "domainPrefix", context.url_id);
  out += "\"http\":{";
  const auto method = http::beast_http::to_string(request.method);
  appendMember(out, "method", std::string_view(method.data(), method.size()));
  appendMember(out, "path", context.raw_path);
  appendMember(out, "protocol", "HTTP/1.1");
  appendMember(out, "sourceIp", context.source_ip);
  appendMember(out, "userAgent", request.header("User-Agent"));
  out.back() = '}';
  out += ',';
  appendMember(out, "requestId", context.request_id);
  appendMember(out, "routeKey", "$default");
  appendMember(out, "stage", "$default");
  appendMember(out, "time", requestTime(context.epoch_ms));
  out += "\"timeEpoch\":" + std::to_string(context.epoch_ms) + "},";
  const bool as_text = isTextContent(request.header("Content-Type")) && isValidUtf8(request.body);
  if (!request.body.empty()) {
    out += "\"body\":";
    appendString(out, as_text ? std::string_view(request.body) : base64Encode(request.body));
    out += ',';
  }
  out += "\"isBase64Encoded\":";
  out += !as_text && !request.body.empty() ? "true}" : "false}";
  return out;
}

json buildEvent(const http::Request& request, const EventContext& context) {
  return json::parse(eventJson(request, context));
}

}  // namespace wick::urls
