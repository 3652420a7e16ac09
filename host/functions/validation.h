// Server-side checks of every configuration field (clients check only
// required/min; maxima are ours to enforce), with AWS's exception names.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "host/api/aws_error.h"

namespace wick::functions {

// Runtimes this host can run today.
bool supportedRuntime(const std::string& runtime);

// Applies the configuration fields present in `request` to `settings` after
// checking them; with `creating`, fills Lambda's defaults for the rest.
std::optional<api::AwsError> applyConfiguration(const nlohmann::json& request,
                                                nlohmann::json& settings, bool creating);

}  // namespace wick::functions
