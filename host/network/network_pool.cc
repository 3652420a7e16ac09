#include "host/network/network_pool.h"

#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "host/network/host_links.h"

namespace wick::network {

namespace {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

NetworkLease::~NetworkLease() {
  pool_->giveBack(std::move(attachment_));
}

Result<std::shared_ptr<NetworkPool>> NetworkPool::start(std::shared_ptr<const CniRunner> runner,
                                                        NetworkPoolOptions options) {
  const std::string what = "start network pool " + runner->network().name;
  if (::mkdir(options.pin_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Error::fromErrno(what + ": mkdir " + options.pin_dir);
  auto reclaimed = NetworkAttachment::reclaim(*runner, options.pin_dir, "wick-",
                                              [](const std::string&) { return true; });
  if (!reclaimed) return std::move(reclaimed).error().context(what);
  if (*reclaimed > 0)
    spdlog::info("network {}: reclaimed {} namespaces of a previous run", runner->network().name,
                 *reclaimed);
  std::shared_ptr<NetworkPool> pool(new NetworkPool(std::move(runner), std::move(options)));
  uint32_t random = 0;
  (void)!::getrandom(&random, sizeof random, 0);
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "wick-%08x-", random);
  pool->id_prefix_ = prefix;
  pool->thread_ = std::thread([raw = pool.get()] { raw->run(); });
  return pool;
}

NetworkPool::~NetworkPool() {
  stop();
}

std::string NetworkPool::nextContainerId() {
  return id_prefix_ + std::to_string(next_id_++);
}

Result<std::unique_ptr<NetworkLease>> NetworkPool::take() {
  std::unique_lock lock(mutex_);
  if (ready_.empty() && !stopping_) {
    const auto started = std::chrono::steady_clock::now();
    spdlog::warn("network {}: no namespace ready, a cold start waits for one", name());
    ++waiting_;
    changed_.notify_all();
    bool got = changed_.wait_for(lock, options_.take_timeout,
                                 [this] { return !ready_.empty() || stopping_; });
    --waiting_;
    ++stats_.waited;
    stats_.wait_ms_total += msSince(started);
    if (!got)
      return Error("network " + name() + ": no namespace ready after " +
                       std::to_string(options_.take_timeout.count()) + " ms",
                   ETIMEDOUT);
  }
  if (stopping_) return Error("network " + name() + ": shutting down", ECANCELED);
  NetworkAttachment attachment = std::move(ready_.front());
  ready_.pop_front();
  ++stats_.taken;
  changed_.notify_all();
  return std::unique_ptr<NetworkLease>(new NetworkLease(shared_from_this(), std::move(attachment)));
}

void NetworkPool::giveBack(NetworkAttachment attachment) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    if (auto detached = attachment.detach(); !detached)
      spdlog::warn("network {}: {}", name(), detached.error().message());
    return;
  }
  to_clean_.push_back(std::move(attachment));
  changed_.notify_all();
}

void NetworkPool::run() {
  std::unique_lock lock(mutex_);
  int failures_in_a_row = 0;
  while (!stopping_) {
    const bool short_of_ready = ready_.size() < options_.size || waiting_ > 0;
    // A waiting cold start first; then cleaning (it frees addresses); then filling.
    if (short_of_ready && (ready_.empty() || to_clean_.empty())) {
      lock.unlock();
      const auto started = std::chrono::steady_clock::now();
      auto attached = NetworkAttachment::attach(runner_, nextContainerId(), options_.pin_dir);
      lock.lock();
      if (attached) {
        ++stats_.attached;
        if (gateway_.empty()) gateway_ = attached->result().gateway;
        stats_.attach_ms_total += msSince(started);
        ready_.push_back(std::move(*attached));
        failures_in_a_row = 0;
        changed_.notify_all();
        continue;
      }
      ++stats_.attach_failures;
      spdlog::error("network {}: {}", name(), attached.error().message());
      // Back off (up to 5 s) so a broken configuration does not spin.
      const auto backoff = std::chrono::milliseconds(100 << std::min(++failures_in_a_row, 6));
      changed_.wait_for(lock, backoff, [this] { return stopping_; });
      continue;
    }
    if (!to_clean_.empty()) {
      NetworkAttachment attachment = std::move(to_clean_.front());
      to_clean_.pop_front();
      lock.unlock();
      if (auto detached = attachment.detach(); !detached)
        spdlog::warn("network {}: {}", name(), detached.error().message());
      lock.lock();
      continue;
    }
    changed_.wait(lock);
  }
}

void NetworkPool::stop() {
  std::deque<NetworkAttachment> held;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mutex_);
    for (auto& attachment : ready_)
      held.push_back(std::move(attachment));
    for (auto& attachment : to_clean_)
      held.push_back(std::move(attachment));
    ready_.clear();
    to_clean_.clear();
  }
  for (auto& attachment : held)
    if (auto detached = attachment.detach(); !detached)
      spdlog::warn("network {}: {}", name(), detached.error().message());
}

Result<std::string> NetworkPool::gateway() {
  std::unique_lock lock(mutex_);
  ++waiting_;  // a pool of size 0 attaches one for us
  changed_.notify_all();
  bool known = changed_.wait_for(lock, options_.take_timeout,
                                 [this] { return !gateway_.empty() || stopping_; });
  --waiting_;
  if (!known || gateway_.empty())
    return Error("network " + name() + ": no gateway known (no namespace attached yet)", EAGAIN);
  return gateway_;
}

NetworkPoolStats NetworkPool::stats() const {
  std::lock_guard lock(mutex_);
  NetworkPoolStats stats = stats_;
  stats.ready = ready_.size();
  return stats;
}

}  // namespace wick::network
