// The request event of a function URL: payload format 2.0
// (../shared/reference/events.md 4.3), from the HTTP request as it arrived.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "host/http/server.h"

namespace wick::urls {

// What the URL layer knows about a request beyond its bytes.
struct EventContext {
  std::string url_id;
  std::string domain_name;               // <url-id>.lambda-url.<region>.<domain>
  std::string raw_path;                  // the path after routing (a /<url-id> prefix removed)
  std::string account_id = "anonymous";  // the caller's account with AWS_IAM
  std::string source_ip;
  std::string forwarded_for;  // x-forwarded-for as the function sees it
  std::string forwarded_proto = "http";
  std::string forwarded_port;
  std::string request_id;
  std::string trace_id;
  int64_t epoch_ms = 0;
  nlohmann::json authorizer;  // {"iam":{...}} with AWS_IAM; null with NONE
};

// Whether a body of this Content-Type goes to the function as text (else
// base64 with isBase64Encoded): text/*, JSON, XML, JavaScript, form data in
// URL encoding, and no type at all; a body that is not UTF-8 never does.
bool isTextContent(std::string_view content_type);
bool isValidUtf8(std::string_view bytes);
// "07/Sep/2021:22:50:22 +0000"
std::string requestTime(int64_t epoch_ms);
// The client's address: the TCP peer, or, when the peer is a trusted proxy,
// the last address of X-Forwarded-For that is not one.
std::string sourceIp(std::string_view peer, std::string_view forwarded_for,
                     const std::vector<std::string>& trusted_proxies);

// The event as the function receives it (JSON text), and parsed (for tests).
std::string eventJson(const http::Request& request, const EventContext& context);
nlohmann::json buildEvent(const http::Request& request, const EventContext& context);

}  // namespace wick::urls
