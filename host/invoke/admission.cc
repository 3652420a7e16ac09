#include "host/invoke/admission.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <utility>

namespace wick::invoke {

Admission::Ticket& Admission::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    memory_mb_ = other.memory_mb_;
    vcpus_ = other.vcpus_;
  }
  return *this;
}

void Admission::Ticket::release() {
  if (owner_) owner_->give(memory_mb_, vcpus_);
  owner_ = nullptr;
}

std::variant<Admission::Ticket, Admission::Refusal> Admission::tryAdmit(uint64_t memory_mb,
                                                                        double vcpus) {
  std::lock_guard lock(mutex_);
  if (budget_.memory_mb > 0 && committed_.memory_mb + memory_mb > budget_.memory_mb) {
    char message[160];
    std::snprintf(message, sizeof message,
                  "host memory budget: %llu MB asked, %llu of %llu MB committed",
                  static_cast<unsigned long long>(memory_mb),
                  static_cast<unsigned long long>(committed_.memory_mb),
                  static_cast<unsigned long long>(budget_.memory_mb));
    return Refusal{"HostMemoryBudgetExceeded", message};
  }
  // A small epsilon: a budget of exactly N vCPUs admits N sandboxes of one.
  if (budget_.vcpus > 0 && committed_.vcpus + vcpus > budget_.vcpus + 1e-9) {
    char message[160];
    std::snprintf(message, sizeof message,
                  "host CPU overcommit: %.3f vCPUs asked, %.3f of %.3f committed", vcpus,
                  committed_.vcpus, budget_.vcpus);
    return Refusal{"HostCpuOvercommitExceeded", message};
  }
  committed_.memory_mb += memory_mb;
  committed_.vcpus += vcpus;
  Ticket ticket;
  ticket.owner_ = this;
  ticket.memory_mb_ = memory_mb;
  ticket.vcpus_ = vcpus;
  return ticket;
}

void Admission::give(uint64_t memory_mb, double vcpus) {
  std::lock_guard lock(mutex_);
  committed_.memory_mb -= std::min(memory_mb, committed_.memory_mb);
  committed_.vcpus = std::max(0.0, committed_.vcpus - vcpus);
}

void Admission::setBudget(HostBudget budget) {
  std::lock_guard lock(mutex_);
  budget_ = budget;
}

HostBudget Admission::budget() const {
  std::lock_guard lock(mutex_);
  return budget_;
}

Admission::Committed Admission::committed() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

void Admission::countRefusal(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++refusals_[reason];
}

void Admission::countReclaimed() {
  std::lock_guard lock(mutex_);
  ++reclaimed_;
}

std::map<std::string, uint64_t> Admission::refusals() const {
  std::lock_guard lock(mutex_);
  return refusals_;
}

uint64_t Admission::reclaimed() const {
  std::lock_guard lock(mutex_);
  return reclaimed_;
}

uint64_t hostMemoryMb() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (meminfo >> key >> kb >> unit)
    if (key == "MemTotal:") return kb / 1024;
  return 0;
}

}  // namespace wick::invoke
