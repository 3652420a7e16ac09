// A function URL's Cors config (../shared/reference/events.md 4.6): checked
// as Lambda checks it when it is set, and turned into the Access-Control-*
// headers of a preflight answer and of every response.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "host/api/aws_error.h"

namespace wick::urls {

struct Cors {
  bool allow_credentials = false;
  std::vector<std::string> allow_headers;
  std::vector<std::string> allow_methods;
  std::vector<std::string> allow_origins;
  std::vector<std::string> expose_headers;
  int64_t max_age = 0;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// The request's Cors object, with Lambda's ValidationException for what breaks a limit.
std::variant<Cors, api::AwsError> parseCors(const nlohmann::json& value);
// As Lambda returns it in the URL config (every field, defaults included).
nlohmann::json toJson(const Cors& cors);
Cors corsFromJson(const nlohmann::json& stored);

// OPTIONS with Origin and Access-Control-Request-Method: a browser's preflight.
bool isPreflight(std::string_view method, std::string_view origin,
                 std::string_view requested_method);
// The headers for a request from `origin` ("" when the request had none: no
// CORS headers). A preflight also gets the allowed methods, headers and max age.
Headers corsHeaders(const Cors& cors, std::string_view origin, bool preflight);

}  // namespace wick::urls
