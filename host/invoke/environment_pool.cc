#include "host/invoke/environment_pool.h"

namespace wick::invoke {

std::unique_ptr<Environment> EnvironmentPool::takeIdle(const std::string& function,
                                                       const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = idle_.find(function);
  if (it == idle_.end()) return nullptr;
  auto& queue = it->second;
  // Most recently used first: it is the warmest (caches, connections).
  for (auto env = queue.rbegin(); env != queue.rend(); ++env) {
    if ((*env)->key() != key) continue;
    std::unique_ptr<Environment> taken = std::move(*env);
    queue.erase(std::next(env).base());
    return taken;
  }
  return nullptr;
}

void EnvironmentPool::putIdle(std::unique_ptr<Environment> environment) {
  std::lock_guard lock(mutex_);
  environment->markIdle();
  idle_[environment->functionName()].push_back(std::move(environment));
}

template <typename Predicate>
std::vector<std::unique_ptr<Environment>> EnvironmentPool::takeIf(Predicate predicate) {
  std::lock_guard lock(mutex_);
  std::vector<std::unique_ptr<Environment>> taken;
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

std::vector<std::unique_ptr<Environment>> EnvironmentPool::takeRetired(const std::string& function,
                                                                       const std::string& version,
                                                                       const std::string& key) {
  return takeIf([&](const Environment& env) {
    return env.functionName() == function && env.version() == version && env.key() != key;
  });
}

std::vector<std::unique_ptr<Environment>> EnvironmentPool::takeFunction(
    const std::string& function) {
  return takeIf([&](const Environment& env) { return env.functionName() == function; });
}

std::vector<std::unique_ptr<Environment>> EnvironmentPool::takeExpired(
    std::chrono::milliseconds keep_alive) {
  const auto now = Clock::now();
  return takeIf([&](const Environment& env) { return now - env.idleSince() > keep_alive; });
}

std::vector<std::unique_ptr<Environment>> EnvironmentPool::takeUnfrozen(
    std::chrono::milliseconds grace) {
  const auto now = Clock::now();
  return takeIf(
      [&](const Environment& env) { return !env.frozen() && now - env.idleSince() > grace; });
}

std::vector<std::unique_ptr<Environment>> EnvironmentPool::takeAll() {
  return takeIf([](const Environment&) { return true; });
}

std::vector<EnvironmentPool::Idle> EnvironmentPool::census() const {
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

}  // namespace wick::invoke
