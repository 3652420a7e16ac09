#include "host/invoke/live_environments.h"

namespace wick::invoke {

const char* LiveEnvironments::toString(State state) {
  switch (state) {
    case State::kInit:
      return "init";
    case State::kBusy:
      return "busy";
    case State::kWarm:
      return "warm";
    case State::kFrozen:
      return "frozen";
  }
  return "unknown";
}

void LiveEnvironments::add(Environment& environment, uint64_t memory_mb, Admission::Ticket ticket) {
  const auto now = Clock::now();
  Entry entry{&environment, memory_mb, State::kInit, now, now, 0, std::move(ticket), std::nullopt};
  std::lock_guard lock(mutex_);
  entries_.insert_or_assign(environment.sandbox().id(), std::move(entry));
}

void LiveEnvironments::remove(const Environment& environment) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(environment.sandbox().id());
  if (it != entries_.end() && it->second.environment == &environment) entries_.erase(it);
}

void LiveEnvironments::began(const Environment& environment) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(environment.sandbox().id());
  if (it == entries_.end()) return;
  it->second.state = State::kBusy;
  it->second.last_used = Clock::now();
  ++it->second.invocations;
}

void LiveEnvironments::setState(const Environment& environment, State state) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(environment.sandbox().id());
  if (it == entries_.end()) return;
  it->second.state = state;
  if (state == State::kWarm) it->second.last_used = Clock::now();
}

Status LiveEnvironments::initEnded(Environment& environment) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(environment.sandbox().id());
  if (it == entries_.end() || !it->second.after_init) return {};
  const sandbox::Resources resources = *it->second.after_init;
  it->second.after_init.reset();
  return environment.sandbox().updateResources(resources);
}

void LiveEnvironments::forEach(const std::function<void(const std::string& id, Entry&)>& visit) {
  std::lock_guard lock(mutex_);
  for (auto& [id, entry] : entries_)
    visit(id, entry);
}

bool LiveEnvironments::with(const std::string& id, const std::function<void(Entry&)>& visit) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  visit(it->second);
  return true;
}

size_t LiveEnvironments::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace wick::invoke
