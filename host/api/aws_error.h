// Errors in the shape AWS clients map to exception classes: the
// x-amzn-ErrorType header plus a JSON body {"Type","message"|"Message"}
// (../shared/reference/lambda-contract.md 4.1, 4.2).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "host/http/server.h"

namespace wick::api {

struct AwsError {
  int status;
  std::string type;  // the exception name, e.g. ResourceNotFoundException
  std::string message;
  std::map<std::string, std::string> extra_fields = {};   // e.g. Reason
  std::map<std::string, std::string> extra_headers = {};  // e.g. Retry-After
  // What went wrong inside, for the daemon's log only: never sent to the
  // client (paths, SQL, errno text are ours to know).
  std::string cause = {};
};

AwsError invalidParameter(std::string message);
AwsError validationError(const std::string& value, const std::string& field,
                         const std::string& constraint);
AwsError resourceNotFound(std::string message);
AwsError resourceConflict(std::string message);
AwsError preconditionFailed(std::string message);
AwsError tooManyRequests(std::string reason);
AwsError requestTooLarge(std::string message);
AwsError invalidRequestContent(std::string message);
AwsError serviceError(std::string message);
// A 500 for a failure of ours (the registry, the disk, the kernel): the
// client is told only that it happened and which request it was; `cause`
// goes to the log (logFailure).
AwsError internalError(std::string cause);
// Logs a 5xx at error level with its cause; a 4xx at debug level.
void logFailure(const AwsError& error, std::string_view method, std::string_view path);
// 502: the function's runtime cannot run here.
AwsError invalidRuntime(std::string message);

http::Response toResponse(const AwsError& error, const std::string& request_id);

}  // namespace wick::api
