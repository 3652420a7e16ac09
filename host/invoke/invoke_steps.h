// The pure steps of a synchronous invoke (no kernel, no I/O), apart so that
// they can be tested alone: reading the event off the request, and choosing
// the version a weighted alias runs.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "host/api/aws_error.h"
#include "host/functions/function_service.h"
#include "host/http/server.h"

namespace wick::invoke {

struct InvokeEvent {
  std::string payload;
  std::string client_context;  // decoded X-Amz-Client-Context
  bool tail = false;           // X-Amz-Log-Type: Tail
};

// The payload: at most 6 MB of JSON (parsed for validity only; an empty body
// is {}), and the client context (base64 JSON, at most 3583 bytes encoded)
// and log type from the headers.
std::variant<InvokeEvent, api::AwsError> parseInvokeEvent(const http::Request& request);

// The version to run: a weighted alias's additional version when `draw`
// (uniform in [0, 1)) falls below its weight, else the alias's own.
std::shared_ptr<const registry::FunctionRecord> pickVersion(
    const functions::FunctionService::Cached& resolved, double draw);

}  // namespace wick::invoke
