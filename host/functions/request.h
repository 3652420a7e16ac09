// What every control-plane operation does with its request first: the JSON
// body, paging, optimistic locking; with AWS's error for each.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "common/error.h"
#include "host/api/aws_error.h"

namespace wick::functions {

// An empty body is {}; anything but a JSON object is InvalidRequestContent.
std::variant<nlohmann::json, api::AwsError> parseJsonBody(const std::string& body);
// MaxItems: 50 when absent, else 1..max.
std::variant<int64_t, api::AwsError> parseMaxItems(const std::string& text, int64_t max);
// A RevisionId in the request must be the current one (PreconditionFailed).
std::optional<api::AwsError> checkRevisionId(const nlohmann::json& request,
                                             const std::string& current);
// A failure of ours (the registry, the disk): ServiceException with its message.
api::AwsError internalError(const Error& error);

}  // namespace wick::functions
