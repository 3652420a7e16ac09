// Every execution environment alive on this host, busy or idle, for the
// operator (`wick sandboxes`, `wick top`, per-sandbox metrics, live tuning).
// The invoker registers an environment once it exists and unregisters it
// before it is destroyed; while registered, it may be looked at under the
// lock from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "host/invoke/admission.h"
#include "host/invoke/environment.h"

namespace wick::invoke {

class LiveEnvironments {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kInit, kBusy, kWarm, kFrozen };
  static const char* toString(State state);

  // What the registry knows of one environment beyond the environment itself.
  struct Entry {
    Environment* environment = nullptr;
    uint64_t memory_mb = 0;  // the function's MemorySize
    State state = State::kInit;
    Clock::time_point created;
    Clock::time_point last_used;
    uint64_t invocations = 0;
    Admission::Ticket ticket;  // its share of the host budget, given back with it
    // Limits an operator set during init, written again once init's own
    // (the plan's, with its boost) are replaced (initEnded).
    std::optional<sandbox::Resources> after_init;
  };

  // A new environment, starting its runtime (init) for its first event.
  void add(Environment& environment, uint64_t memory_mb, Admission::Ticket ticket = {});
  void remove(const Environment& environment);
  // An event starts in it (busy, one more invocation).
  void began(const Environment& environment);
  void setState(const Environment& environment, State state);
  // Init's boost was just ended with the plan's limits: an operator's tune
  // made meanwhile is written again (blocking: on a worker).
  Status initEnded(Environment& environment);

  // Calls `visit` for each environment, under the lock: it must not block on
  // anything but the environment's own cgroup files.
  void forEach(const std::function<void(const std::string& id, Entry&)>& visit);
  // Calls `visit` on the environment with this sandbox id; false if none.
  bool with(const std::string& id, const std::function<void(Entry&)>& visit);
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // by sandbox id
};

}  // namespace wick::invoke
