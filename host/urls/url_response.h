// What a function URL answers (../shared/reference/events.md 4.4, 4.5): the
// function's result mapped to an HTTP response as Lambda maps it, and the
// URL endpoint's own errors with Lambda's statuses and bodies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "host/http/server.h"

namespace wick::urls {

// The function's JSON result: an object with statusCode is a response
// (status, headers, cookies, body, isBase64Encoded); anything else is a 200
// application/json whose body is the JSON (a string: its value, unquoted).
// Nullopt when it cannot be a response (not JSON, a bad statusCode, headers
// or base64): the caller answers 502.
std::optional<http::Response> mapFunctionResult(std::string_view payload);

// The head a RESPONSE_STREAM function's HTTP-integration prelude asks for
// (../shared/reference/events.md 5.4): statusCode (absent: 200), headers and
// cookies checked as in a buffered result; unknown keys ignored; no
// Content-Type: application/octet-stream. Nullopt when the prelude is not a
// JSON object or a field is not valid (the caller answers 502).
std::optional<http::Response> mapPrelude(std::string_view prelude);

// The Invoke API's answer (the invoker's response) as the URL's: the mapped
// result, or 502 for a function error or a result that maps to nothing,
// 429 for a throttle, 413 for an event over the payload limit.
http::Response urlResponse(const http::Response& invoked);

http::Response unknownUrl();  // 403 {"Message":null}
http::Response forbidden();   // 403, the policy refuses or an AWS_IAM URL is unsigned
// A signature the verifier refused (AWS_IAM): its status (403, or 400 when
// malformed), exception and AWS's message, as Lambda's IAM check answers
// ("The security token included in the request is invalid.").
http::Response signatureRefused(unsigned status, const std::string& type,
                                const std::string& message);
http::Response internalError();    // 502 Internal Server Error
http::Response throttled();        // 429
http::Response payloadTooLarge();  // 413

}  // namespace wick::urls
