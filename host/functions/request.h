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
#include "host/functions/code_store.h"

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

// A zip uploaded as base64 (`field`: Code.ZipFile, Content.ZipFile), checked
// against the zipped and unzipped limits and kept in `store`; every rejection
// of the archive itself names what was wrong.
std::variant<StoredCode, api::AwsError> storeZipUpload(const CodeStore& store,
                                                       const std::string& base64,
                                                       const std::string& field,
                                                       uint64_t max_zipped_bytes,
                                                       uint64_t max_unzipped_bytes);

}  // namespace wick::functions
