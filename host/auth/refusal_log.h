// One log line for every request wickd refuses on its API or a function URL
// (issue 15): who (the peer, the access key id it named) and why, with what
// the client sent made printable and cut short.
#pragma once

#include <string>
#include <string_view>

#include "host/http/server.h"

namespace wick::auth {

// `text` with bytes outside printable ASCII as '?', cut at `limit` ("..." after).
std::string printable(std::string_view text, size_t limit = 200);

// "refused POST /path from 127.0.0.1:5000 (access key AKIA...): reason" at warn.
void logRefused(const http::Request& request, std::string_view reason,
                std::string_view key_id = {});

}  // namespace wick::auth
