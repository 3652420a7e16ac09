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
#include <map>
#include <memory>
#include <mutex>
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
  // Idle longer than `grace` and not frozen yet: to freeze, then put back.
  Taken takeUnfrozen(std::chrono::milliseconds grace, Clock::time_point now = Clock::now()) {
    return takeIf([&](const Env& env) { return !env.frozen() && now - env.idleSince() > grace; });
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
};

using EnvironmentPool = BasicEnvironmentPool<Environment>;

}  // namespace wick::invoke
