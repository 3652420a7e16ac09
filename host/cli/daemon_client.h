// How `wick` verbs reach wickd: --endpoint URL, else $WICK_ENDPOINT, else
// http://127.0.0.1:3001.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace wick::cli {

std::string defaultEndpoint();

struct HttpReply {
  int status = 0;
  std::string body;
};

// A GET of `target` (path + query) on the daemon.
Result<HttpReply> httpGet(const std::string& endpoint, const std::string& target);
// A POST of a JSON body.
Result<HttpReply> httpPost(const std::string& endpoint, const std::string& target,
                           const std::string& json_body);
Result<HttpReply> httpDelete(const std::string& endpoint, const std::string& target);

// What went wrong, as the daemon said it: the Message of its AWS-shaped error
// JSON, else the status and the start of the body.
std::string errorMessage(const HttpReply& reply);

// A 2xx reply's JSON body; otherwise the transport error or errorMessage().
Result<nlohmann::json> jsonReply(Result<HttpReply> reply);

// One path segment, percent-encoded ('/' and ':' of an image ref included).
std::string encodeSegment(std::string_view text);

}  // namespace wick::cli
