// How `wick` verbs reach wickd: --endpoint URL, else $WICK_ENDPOINT, else
// http://127.0.0.1:3001.
#pragma once

#include <string>

#include "common/error.h"

namespace wick::cli {

std::string defaultEndpoint();

struct HttpReply {
  int status = 0;
  std::string body;
};

// A GET of `target` (path + query) on the daemon.
Result<HttpReply> httpGet(const std::string& endpoint, const std::string& target);

}  // namespace wick::cli
