// Idle execution environments, per function, waiting for their next event.
// An environment is reused only for the code and configuration it was made
// for (its key); an update retires the others. Idle ones are frozen after a
// short grace and destroyed after the keep-alive.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "host/invoke/environment.h"

namespace wick::invoke {

class EnvironmentPool {
 public:
  using Clock = std::chrono::steady_clock;

  // The most recently used idle environment made for `key`, if any.
  std::unique_ptr<Environment> takeIdle(const std::string& function, const std::string& key);
  void putIdle(std::unique_ptr<Environment> environment);
  // Idle environments of this version of `function` made for another key
  // (older code or configuration); other versions keep theirs.
  std::vector<std::unique_ptr<Environment>> takeRetired(const std::string& function,
                                                        const std::string& version,
                                                        const std::string& key);
  // Every idle environment of `function` (deleted functions).
  std::vector<std::unique_ptr<Environment>> takeFunction(const std::string& function);
  // Idle longer than its keep-alive: to destroy.
  std::vector<std::unique_ptr<Environment>> takeExpired(
      const std::function<std::chrono::milliseconds(const Environment&)>& keep_alive);
  // The idle environment whose sandbox has this id, if it is idle (retired by
  // the operator).
  std::unique_ptr<Environment> takeSandbox(const std::string& sandbox_id);
  // The idle environment unused the longest, of any function (reclaimed to
  // admit a cold start under the host budget).
  std::unique_ptr<Environment> takeLeastRecentlyUsed();
  // Idle longer than `grace` and not frozen yet: to freeze, then put back.
  std::vector<std::unique_ptr<Environment>> takeUnfrozen(std::chrono::milliseconds grace);
  std::vector<std::unique_ptr<Environment>> takeAll();

  // How many idle environments each function version has, warm and frozen
  // (for metrics, at scrape time).
  struct Idle {
    std::string function;
    std::string version;
    size_t warm = 0;
    size_t frozen = 0;
  };
  std::vector<Idle> census() const;

 private:
  template <typename Predicate>
  std::vector<std::unique_ptr<Environment>> takeIf(Predicate predicate);

  mutable std::mutex mutex_;
  std::map<std::string, std::deque<std::unique_ptr<Environment>>> idle_;
};

}  // namespace wick::invoke
