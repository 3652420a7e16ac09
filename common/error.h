// Errors as values: what failed, on which path, with the errno text.
//
// An Error carries the errno (0 when there is none) and a message chain that
// grows as the error travels up: "create sandbox f-3a2: mount overlay on /x: EINVAL".
// Result<T> is a tiny std::expected stand-in (C++20 has none built in).
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wick {

class Error {
 public:
  Error() = default;
  explicit Error(std::string message, int err_no = 0)
      : message_(std::move(message)), errno_(err_no) {}

  // An error for a failed system call: "what: strerror(err)".
  static Error fromErrno(std::string_view what, int err_no = errno);

  // Prefix the message with the caller's context: "context: message".
  Error& context(std::string_view what) &;
  Error&& context(std::string_view what) &&;

  const std::string& message() const { return message_; }
  int errNo() const { return errno_; }

 private:
  std::string message_;
  int errno_ = 0;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace wick

// Propagate a failed Result from the current function, adding context.
#define WICK_TRY(expr, what)                                                         \
  do {                                                                               \
    auto wick_try_result_ = (expr);                                                  \
    if (!wick_try_result_) return std::move(wick_try_result_).error().context(what); \
  } while (0)
