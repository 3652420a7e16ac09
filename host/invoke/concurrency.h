// Concurrency accounting as Lambda does it (../shared/reference/lambda-contract.md
// 4.5, 5.3): an account pool, and functions with reserved concurrency carving
// their own pool out of it. A Permit is one in-flight execution; it returns
// its slot when destroyed.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

namespace wick::invoke {

class ConcurrencyLimiter;

class Permit {
 public:
  Permit() = default;
  Permit(Permit&& other) noexcept { *this = std::move(other); }
  Permit& operator=(Permit&& other) noexcept;
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
  ~Permit() { release(); }
  void release();
  bool held() const { return limiter_ != nullptr; }

 private:
  friend class ConcurrencyLimiter;
  Permit(ConcurrencyLimiter* limiter, std::string function, bool reserved)
      : limiter_(limiter), function_(std::move(function)), reserved_(reserved) {}
  ConcurrencyLimiter* limiter_ = nullptr;
  std::string function_;
  bool reserved_ = false;
};

class ConcurrencyLimiter {
 public:
  explicit ConcurrencyLimiter(int64_t account_limit) : account_limit_(account_limit) {}

  struct Throttle {
    std::string reason;  // TooManyRequestsException's Reason
  };
  // `reserved`: the function's reserved concurrency, if set. `total_reserved`:
  // the sum over all functions (their pools are out of the unreserved one).
  std::variant<Permit, Throttle> acquire(const std::string& function,
                                         std::optional<int64_t> reserved, int64_t total_reserved);
  int64_t inFlight(const std::string& function) const;
  int64_t unreservedInFlight() const;

 private:
  friend class Permit;
  void release(const std::string& function, bool reserved);

  mutable std::mutex mutex_;
  const int64_t account_limit_;
  int64_t unreserved_in_flight_ = 0;
  std::map<std::string, int64_t> in_flight_;
};

}  // namespace wick::invoke
