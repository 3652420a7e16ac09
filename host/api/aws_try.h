// Early return of an AwsError, so that each fallible step of an operation is
// one line:
//
//   AWS_TRY(request, parseJsonBody(body));        // std::variant<json, AwsError>
//   AWS_TRY(versions, registry_.versions(name));  // Result<T>: a 500, the cause logged
//   AWS_CHECK(checkRevisionId(request, current)); // std::optional<AwsError>
//   AWS_CHECK(registry_.update(record));          // Status
//
// AWS_TRY declares `name` holding the value (moved out of the result); both
// return the error from the enclosing function, whose return type must be
// constructible from an AwsError (Outcome, variant<T, AwsError>,
// optional<AwsError>). A registry or disk failure becomes internalError: the
// client learns only that it happened, the log gets the message chain
// ("get function 'f': sqlite step: database is locked").
// AWS_CO_TRY / AWS_CO_CHECK are the same for coroutines (co_return).
#pragma once

#include <optional>
#include <utility>
#include <variant>

#include "common/error.h"
#include "host/api/aws_error.h"

namespace wick::api::aws_try {

template <typename T>
std::optional<AwsError> failure(std::variant<T, AwsError>& result) {
  if (auto* error = std::get_if<AwsError>(&result)) return std::move(*error);
  return std::nullopt;
}
template <typename T>
std::optional<AwsError> failure(Result<T>& result) {
  if (!result) return internalError(result.error().message());
  return std::nullopt;
}
inline std::optional<AwsError> failure(std::optional<AwsError>& error) {
  return std::move(error);
}

template <typename T>
T value(std::variant<T, AwsError>&& result) {
  return std::get<T>(std::move(result));
}
template <typename T>
T value(Result<T>&& result) {
  return std::move(result).value();
}

}  // namespace wick::api::aws_try

#define WICK_AWS_CONCAT_(a, b) a##b
#define WICK_AWS_CONCAT(a, b) WICK_AWS_CONCAT_(a, b)

#define WICK_AWS_TRY_(ret, name, expr, tmp)                                                     \
  auto tmp = (expr);                                                                            \
  if (auto aws_try_error_ = ::wick::api::aws_try::failure(tmp)) ret std::move(*aws_try_error_); \
  auto name = ::wick::api::aws_try::value(std::move(tmp))

#define WICK_AWS_CHECK_(ret, expr)                                                \
  do {                                                                            \
    auto aws_check_result_ = (expr);                                              \
    if (auto aws_check_error_ = ::wick::api::aws_try::failure(aws_check_result_)) \
      ret std::move(*aws_check_error_);                                           \
  } while (0)

#define AWS_TRY(name, expr) \
  WICK_AWS_TRY_(return, name, expr, WICK_AWS_CONCAT(aws_try_result_, __LINE__))
#define AWS_CO_TRY(name, expr) \
  WICK_AWS_TRY_(co_return, name, expr, WICK_AWS_CONCAT(aws_try_result_, __LINE__))
#define AWS_CHECK(expr) WICK_AWS_CHECK_(return, expr)
#define AWS_CO_CHECK(expr) WICK_AWS_CHECK_(co_return, expr)
