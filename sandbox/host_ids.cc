#include "sandbox/host_ids.h"

#include <algorithm>
#include <string>

namespace wick::sandbox {

HostIdRange::Lease& HostIdRange::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    range_ = std::move(other.range_);
    slot_ = other.slot_;
    root_ = other.root_;
    other.range_.reset();
  }
  return *this;
}

void HostIdRange::Lease::release() {
  if (range_) range_->give(slot_);
  range_.reset();
}

Result<HostIdRange::Lease> HostIdRange::take() {
  std::lock_guard lock(mutex_);
  const auto slots = static_cast<uint32_t>(used_.size());
  // Round robin: a slot just given back is the last to be reused, so a dying
  // sandbox's stragglers never share ids with a new one.
  for (uint32_t tried = 0; tried < slots; ++tried) {
    uint32_t slot = (next_ + tried) % slots;
    if (used_[slot]) continue;
    used_[slot] = true;
    next_ = (slot + 1) % slots;
    Lease lease;
    lease.range_ = shared_from_this();
    lease.slot_ = slot;
    lease.root_ = first_ + 2 * slot;
    return lease;
  }
  return Error("host id range " + std::to_string(first_) + "+" + std::to_string(2 * slots) +
                   ": every one of its " + std::to_string(slots) + " sandbox slots is in use",
               EAGAIN);
}

uint32_t HostIdRange::slotsInUse() const {
  std::lock_guard lock(mutex_);
  return static_cast<uint32_t>(std::count(used_.begin(), used_.end(), true));
}

void HostIdRange::give(uint32_t slot) {
  std::lock_guard lock(mutex_);
  used_[slot] = false;
}

}  // namespace wick::sandbox
