// Per-sandbox host identities (issue 15): each sandbox with its own user
// namespace maps its root and its user to two host ids of its own, taken from
// a range the operator gives, so that nothing per-user (RLIMIT_NPROC, signals,
// ptrace, file ownership in /tmp) is shared between sandboxes, as the
// Firecracker jailer gives each microVM its own uid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/error.h"

namespace wick::sandbox {

// Slot k of a range starting at `first` owns host ids first+2k (the sandbox's
// root, used while it builds its root) and first+2k+1 (its user). The same
// numbers serve as uids and gids.
class HostIdRange : public std::enable_shared_from_this<HostIdRange> {
 public:
  HostIdRange(uint32_t first, uint32_t slots) : first_(first), used_(slots, false) {}

  // A slot, held until the lease is dropped.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { release(); }
    uint32_t rootId() const { return root_; }
    uint32_t userId() const { return root_ + 1; }
    explicit operator bool() const { return range_ != nullptr; }

   private:
    friend class HostIdRange;
    void release();
    std::shared_ptr<HostIdRange> range_;
    uint32_t slot_ = 0;
    uint32_t root_ = 0;
  };

  Result<Lease> take();
  uint32_t slotsInUse() const;

 private:
  void give(uint32_t slot);
  const uint32_t first_;
  mutable std::mutex mutex_;
  std::vector<bool> used_;
  uint32_t next_ = 0;
};

}  // namespace wick::sandbox
