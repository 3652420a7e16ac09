// What the Scheduler subset's two files (scheduler_api.cc, schedule groups in
// scheduler_groups_api.cc) both answer: names and their errors.
#pragma once

#include <regex>
#include <string>

#include "host/api/aws_error.h"

namespace wick::api::scheduler_errors {

inline AwsError validation(std::string message) {
  return {400, "ValidationException", std::move(message)};
}

inline AwsError groupNotFound(const std::string& group) {
  return {404, "ResourceNotFoundException", "Schedule group " + group + " does not exist."};
}

// A schedule's or a group's name: ^[0-9a-zA-Z-_.]+$, 1-64 characters.
inline bool validName(const std::string& name) {
  static const std::regex pattern("^[0-9a-zA-Z_.-]{1,64}$");
  return std::regex_match(name, pattern);
}

}  // namespace wick::api::scheduler_errors
