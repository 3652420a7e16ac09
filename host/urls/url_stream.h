// A RESPONSE_STREAM function URL's answer, written to the client as the
// function makes it (../shared/reference/events.md 5.4): the head at the
// first flush (from the HTTP-integration prelude when the stream announces
// one, else 200 with the stream's content type), then each chunk as it
// arrives. Failures before the first byte get the buffered URL errors (502,
// 429, 413); a failure after it ends the connection without the last chunk,
// so the client sees a cut-off body.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <string>

#include "host/http/response_stream.h"
#include "host/http/server.h"
#include "host/invoke/invoker.h"
#include "host/urls/cors.h"

namespace wick::urls {

// Invokes `invoke` (the Invoke API request for the URL's function) with
// invokeStreaming and writes the answer to `stream`. `extra` goes on every
// head (CORS, x-amzn-RequestId). The Response to send when the stream was not
// begun (an error before the first byte, or a result that did not stream).
boost::asio::awaitable<http::Response> streamUrlResponse(
    invoke::Invoker& invoker, const http::Request& invoke, const std::string& function,
    const std::string& request_id, http::ResponseStream& stream, const Headers& extra);

// `headers` onto `fields`, replacing the same names (Vary is added to).
void addHeaders(http::beast_http::fields& fields, const Headers& headers);

}  // namespace wick::urls
