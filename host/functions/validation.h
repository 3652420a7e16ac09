// Server-side checks of every configuration field (clients check only
// required/min; maxima are ours to enforce), with AWS's exception names.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "host/api/aws_error.h"
#include "host/registry/function_config.h"

namespace wick::functions {

// A FunctionName that is neither a name nor a (partial) ARN: Lambda's
// ValidationException, with its pattern.
api::AwsError invalidFunctionName(const std::string& name);
// A qualifier in the function's name (name:qualifier, or an ARN's) that is
// not the Qualifier the request gives.
api::AwsError qualifierMismatch();

// Runtimes this host can run today.
bool supportedRuntime(const std::string& runtime);

// Applies the configuration fields present in `request` to `settings` after
// checking them; with `creating`, fills Lambda's defaults for the rest.
std::optional<api::AwsError> applyConfiguration(const nlohmann::json& request,
                                                nlohmann::json& settings, bool creating);

// The update that validates: `current` with the fields of `request` applied
// (with `creating`, Lambda's defaults for the rest), checked as above, then
// parsed back into typed fields.
std::variant<registry::FunctionConfig, api::AwsError> updatedConfig(
    const registry::FunctionConfig& current, const nlohmann::json& request, bool creating);

}  // namespace wick::functions
