// What a control-plane operation answers: a reply (status and JSON body) or
// an AWS error.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "host/api/aws_error.h"

namespace wick::functions {

struct Reply {
  int status = 200;
  std::optional<nlohmann::json> body;  // none: an empty body (204)
};
using Outcome = std::variant<Reply, api::AwsError>;

}  // namespace wick::functions
