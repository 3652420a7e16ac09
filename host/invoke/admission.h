// Admission of new execution environments against the host's budget: the sum
// of the sandboxes' memory limits may not exceed a memory budget, nor the sum
// of their vCPUs the host's CPUs times an overcommit ratio. A cold start takes
// a Ticket (its share, held for the environment's life) or is refused with a
// reason; the invoker then reclaims idle environments (least recently used
// first) and, if that is not enough, answers 429.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

namespace wick::invoke {

struct HostBudget {
  uint64_t memory_mb = 0;  // 0: unlimited
  double vcpus = 0;        // 0: unlimited
};

class Admission {
 public:
  // A share of the budget, given back when it is destroyed.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept { *this = std::move(other); }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }
    void release();

   private:
    friend class Admission;
    Admission* owner_ = nullptr;
    uint64_t memory_mb_ = 0;
    double vcpus_ = 0;
  };

  struct Refusal {
    std::string reason;   // the 429's Reason
    std::string message;  // for the log: what was asked, what is committed
  };

  explicit Admission(HostBudget budget = {}) : budget_(budget) {}

  // A share for one sandbox, or why not.
  std::variant<Ticket, Refusal> tryAdmit(uint64_t memory_mb, double vcpus);
  void setBudget(HostBudget budget);
  HostBudget budget() const;
  struct Committed {
    uint64_t memory_mb = 0;
    double vcpus = 0;
  };
  Committed committed() const;

  // What admission did, for metrics: refusals by reason, idle environments
  // reclaimed to make room.
  void countRefusal(const std::string& reason);
  void countReclaimed();
  std::map<std::string, uint64_t> refusals() const;
  uint64_t reclaimed() const;

 private:
  void give(uint64_t memory_mb, double vcpus);

  mutable std::mutex mutex_;
  HostBudget budget_;
  Committed committed_;
  std::map<std::string, uint64_t> refusals_;
  uint64_t reclaimed_ = 0;
};

// The machine's memory (MemTotal of /proc/meminfo), in MB; 0 if unreadable.
uint64_t hostMemoryMb();

}  // namespace wick::invoke
