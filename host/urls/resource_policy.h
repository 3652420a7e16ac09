// A function's resource policy (AddPermission / GetPolicy / RemovePermission):
// the statement Lambda renders from an AddPermission request, the document
// GetPolicy returns, and whether it lets the public call a NONE function URL
// (../shared/reference/events.md 4.2).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "host/api/aws_error.h"
#include "host/urls/url_store.h"

namespace wick::urls {

// The statement for an AddPermission body, on `resource_arn` (the function's
// ARN, qualified when the request had a Qualifier). Lambda's validation errors.
std::variant<nlohmann::json, api::AwsError> statementFor(const nlohmann::json& request,
                                                         const std::string& resource_arn);
// {"Version":"2012-10-17","Id":"default","Statement":[...]}
nlohmann::json policyDocument(const Policy& policy);
// A statement that allows lambda:InvokeFunctionUrl to principal "*" for a
// URL of AuthType NONE (no condition, or FunctionUrlAuthType NONE).
bool allowsPublicUrl(const Policy& policy);

}  // namespace wick::urls
