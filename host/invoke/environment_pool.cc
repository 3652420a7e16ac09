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
    const std::function<std::chrono::milliseconds(const Environment&)>& keep_alive) {
  const auto now = Clock::now();
  return takeIf([&](const Environment& env) { return now - env.idleSince() > keep_alive(env); });
}

std::unique_ptr<Environment> EnvironmentPool::takeSandbox(const std::string& sandbox_id) {
  auto taken = takeIf([&](const Environment& env) { return env.sandbox().id() == sandbox_id; });
  return taken.empty() ? nullptr : std::move(taken.front());
}

std::vector<std::unique_ptr<Environment>> EnvironmentPool::takeUnfrozen(
    std::chrono::milliseconds grace) {
  const auto now = Clock::now();
  return takeIf(
      [&](const Environment& env) { return !env.frozen() && now - env.idleSince() > grace; });
}

std::unique_ptr<Environment> EnvironmentPool::takeLeastRecentlyUsed() {
  std::lock_guard lock(mutex_);
  auto oldest_queue = idle_.end();
  std::deque<std::unique_ptr<Environment>>::iterator oldest;
  for (auto it = idle_.begin(); it != idle_.end(); ++it)
    for (auto env = it->second.begin(); env != it->second.end(); ++env)
      if (oldest_queue == idle_.end() || (*env)->idleSince() < (*oldest)->idleSince()) {
        oldest_queue = it;
        oldest = env;
      }
  if (oldest_queue == idle_.end()) return nullptr;
  std::unique_ptr<Environment> taken = std::move(*oldest);
  oldest_queue->second.erase(oldest);
  if (oldest_queue->second.empty()) idle_.erase(oldest_queue);
  return taken;
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
