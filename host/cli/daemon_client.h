// How `wick` verbs reach wickd: --endpoint, else $WICK_ENDPOINT, else wickd's
// admin Unix socket in its default state directory (unix:<state dir>/wickd.sock:
// root's, mode 0600; wick's admin routes are served there and never on TCP).
// An endpoint is "unix:/path/to/wickd.sock" or "http://host:port".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace wick::cli {

std::string defaultEndpoint();
// The --endpoint option's help, the same for every verb.
inline constexpr const char* kEndpointHelp =
    "wickd's admin socket (unix:PATH) or URL (default $WICK_ENDPOINT, else "
    "unix:<wickd's default state dir>/wickd.sock)";

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
