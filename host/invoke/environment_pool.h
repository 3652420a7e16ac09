// Idle execution environments, per function, waiting for their next event.
// An environment is reused only for the code and configuration it was made
// for (its key); an update retires the others. Idle ones are frozen after a
// short grace and destroyed after the keep-alive.
//
// The pool is bookkeeping only: it never freezes, thaws or destroys. It is a
// template over the environment so that tests can hold fakes; an `Env` has
// key(), functionName(), version(), frozen(), idleSince() and markIdle().
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace wick::invoke {

class Environment;

template <typename Env>
class BasicEnvironmentPool {
 public:
  using Clock = std::chrono::steady_clock;
  using Taken = std::vector<std::unique_ptr<Env>>;

  // The most recently used idle environment made for `key`, if any.
  std::unique_ptr<Env> takeIdle(const std::string& function, const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(function);
    if (it == idle_.end()) return nullptr;
    auto& queue = it->second;
    // Most recently used first: it is the warmest (caches, connections).
    for (auto env = queue.rbegin(); env != queue.rend(); ++env) {
      if ((*env)->key() != key) continue;
      std::unique_ptr<Env> taken = std::move(*env);
      queue.erase(std::next(env).base());
      if (queue.empty()) idle_.erase(it);
      return taken;
    }
    return nullptr;
  }

  void putIdle(std::unique_ptr<Env> environment) {
    std::lock_guard lock(mutex_);
    environment->markIdle();
    idle_[environment->functionName()].push_back(std::move(environment));
  }

  // Idle environments of this version of `function` made for another key
  // (older code or configuration); other versions keep theirs.
  Taken takeRetired(const std::string& function, const std::string& version,
                    const std::string& key) {
    return takeIf([&](const Env& env) {
      return env.functionName() == function && env.version() == version && env.key() != key;
    });
  }
  // Every idle environment of `function` (deleted functions).
  Taken takeFunction(const std::string& function) {
    return takeIf([&](const Env& env) { return env.functionName() == function; });
  }
  // Idle longer than `keep_alive`: to destroy.
  Taken takeExpired(std::chrono::milliseconds keep_alive, Clock::time_point now = Clock::now()) {
    return takeIf([&](const Env& env) { return now - env.idleSince() > keep_alive; });
  }
  // Idle longer than its own keep-alive (the operator's per function).
  Taken takeExpired(const std::function<std::chrono::milliseconds(const Env&)>& keep_alive,
                    Clock::time_point now = Clock::now()) {
    return takeIf([&](const Env& env) { return now - env.idleSince() > keep_alive(env); });
  }
  // The idle environment whose sandbox has this id, if it is idle (retired by
  // the operator). Needs Env::sandbox().id().
  std::unique_ptr<Env> takeSandbox(const std::string& sandbox_id) {
    Taken taken = takeIf([&](const Env& env) { return env.sandbox().id() == sandbox_id; });
    return taken.empty() ? nullptr : std::move(taken.front());
  }
  // The idle environment unused the longest, of any function (reclaimed to
  // admit a cold start under the host budget, or when the host lacks a
  // resource to make one).
  std::unique_ptr<Env> takeLeastRecentlyUsed() {
    std::lock_guard lock(mutex_);
    auto oldest_queue = idle_.end();
    typename std::deque<std::unique_ptr<Env>>::iterator oldest;
    for (auto it = idle_.begin(); it != idle_.end(); ++it)
      for (auto env = it->second.begin(); env != it->second.end(); ++env)
        if (oldest_queue == idle_.end() || (*env)->idleSince() < (*oldest)->idleSince()) {
          oldest_queue = it;
          oldest = env;
        }
    if (oldest_queue == idle_.end()) return nullptr;
    std::unique_ptr<Env> taken = std::move(*oldest);
    oldest_queue->second.erase(oldest);
    if (oldest_queue->second.empty()) idle_.erase(oldest_queue);
    return taken;
  }
  // Idle longer than `grace` and not frozen yet: to freeze, then put back.
  // Idle past `grace` and not frozen yet: to freeze. Until each comes back
  // (putFrozen) it counts as freezing, so that an invoke for its key waits
  // for it rather than starting another environment.
  Taken takeUnfrozen(std::chrono::milliseconds grace, Clock::time_point now = Clock::now()) {
    Taken taken =
        takeIf([&](const Env& env) { return !env.frozen() && now - env.idleSince() > grace; });
    std::lock_guard lock(mutex_);
    for (const auto& env : taken)
      freezing_.insert({env->functionName(), env->key()});
    return taken;
  }
  // Back from takeUnfrozen (frozen or not).
  void putFrozen(std::unique_ptr<Env> environment) {
    {
      std::lock_guard lock(mutex_);
      auto it = freezing_.find({environment->functionName(), environment->key()});
      if (it != freezing_.end()) freezing_.erase(it);
    }
    putIdle(std::move(environment));
  }
  // An environment of `function` made for `key` is out being frozen.
  bool freezing(const std::string& function, const std::string& key) const {
    std::lock_guard lock(mutex_);
    return freezing_.count({function, key}) > 0;
  }
  Taken takeAll() {
    return takeIf([](const Env&) { return true; });
  }

  // How many idle environments each function version has, warm and frozen
  // (for metrics, at scrape time).
  struct Idle {
    std::string function;
    std::string version;
    size_t warm = 0;
    size_t frozen = 0;
  };
  std::vector<Idle> census() const {
    std::map<std::pair<std::string, std::string>, Idle> counts;
    std::lock_guard lock(mutex_);
    for (const auto& [function, queue] : idle_)
      for (const auto& env : queue) {
        Idle& idle = counts[{function, env->version()}];
        idle.function = function;
        idle.version = env->version();
        ++(env->frozen() ? idle.frozen : idle.warm);
      }
    std::vector<Idle> all;
    for (auto& [key, idle] : counts)
      all.push_back(std::move(idle));
    return all;
  }

 private:
  template <typename Predicate>
  Taken takeIf(Predicate predicate) {
    std::lock_guard lock(mutex_);
    Taken taken;
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& queue = it->second;
      for (auto env = queue.begin(); env != queue.end();) {
        if (predicate(**env)) {
          taken.push_back(std::move(*env));
          env = queue.erase(env);
        } else {
          ++env;
        }
      }
      it = queue.empty() ? idle_.erase(it) : std::next(it);
    }
    return taken;
  }

  mutable std::mutex mutex_;
  // By function; oldest first.
  std::map<std::string, std::deque<std::unique_ptr<Env>>> idle_;
  // (function, key) of each environment taken to be frozen, not back yet.
  std::multiset<std::pair<std::string, std::string>> freezing_;
};

using EnvironmentPool = BasicEnvironmentPool<Environment>;

}  // namespace wick::invoke
