#include "host/invoke/concurrency.h"

namespace wick::invoke {

Permit& Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    release();
    limiter_ = other.limiter_;
    function_ = std::move(other.function_);
    reserved_ = other.reserved_;
    other.limiter_ = nullptr;
  }
  return *this;
}

void Permit::release() {
  if (limiter_ != nullptr) limiter_->release(function_, reserved_);
  limiter_ = nullptr;
}

std::variant<Permit, ConcurrencyLimiter::Throttle> ConcurrencyLimiter::acquire(
    const std::string& function, std::optional<int64_t> reserved, int64_t total_reserved) {
  std::lock_guard lock(mutex_);
  int64_t& mine = in_flight_[function];
  if (reserved) {
    // A reserved pool is the function's alone, and also its ceiling.
    if (mine >= *reserved) return Throttle{"ReservedFunctionConcurrentInvocationLimitExceeded"};
    ++mine;
    return Permit(this, function, true);
  }
  if (unreserved_in_flight_ >= account_limit_ - total_reserved)
    return Throttle{"ConcurrentInvocationLimitExceeded"};
  ++mine;
  ++unreserved_in_flight_;
  return Permit(this, function, false);
}

void ConcurrencyLimiter::release(const std::string& function, bool reserved) {
  std::lock_guard lock(mutex_);
  auto it = in_flight_.find(function);
  if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
  if (!reserved) --unreserved_in_flight_;
}

int64_t ConcurrencyLimiter::inFlight(const std::string& function) const {
  std::lock_guard lock(mutex_);
  auto it = in_flight_.find(function);
  return it == in_flight_.end() ? 0 : it->second;
}

int64_t ConcurrencyLimiter::unreservedInFlight() const {
  std::lock_guard lock(mutex_);
  return unreserved_in_flight_;
}

}  // namespace wick::invoke
