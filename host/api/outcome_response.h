// A control-plane Outcome as its HTTP answer, for every API part that
// answers with one (Lambda, EventInvokeConfig, function URLs, Scheduler).
#pragma once

#include <string>

#include "host/api/aws_error.h"
#include "host/functions/outcome.h"
#include "host/http/server.h"

namespace wick::api {

// A Reply: its status and JSON body (none: no body, as for a 204); an
// AwsError: its AWS shape (toResponse).
http::Response toHttp(const functions::Outcome& outcome, const std::string& request_id);

// toHttp, a failure logged first with the request's method and path
// (logFailure: a 5xx at error level with its cause).
http::Response respond(const functions::Outcome& outcome, const http::Request& request,
                       const std::string& request_id);

}  // namespace wick::api
