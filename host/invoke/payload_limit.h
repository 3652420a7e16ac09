// The invoke payload's limit, known from a request's head alone: an Invoke
// whose Content-Length is over it is refused before its body is read (at once
// for a client that sent Expect: 100-continue, instead of after 6 MB+ of
// upload).
#pragma once

#include <cstdint>
#include <optional>

#include "host/http/server.h"

namespace wick::invoke {

inline constexpr uint64_t kMaxInvokePayload = 6'291'456;

// Lambda's answer to an Invoke over the limit, or nullopt for any other request.
std::optional<http::Response> refuseOversizedInvoke(const http::Request& head,
                                                    std::optional<uint64_t> content_length);

}  // namespace wick::invoke
