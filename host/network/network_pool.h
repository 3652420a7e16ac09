// Namespaces attached to one CNI network ahead of time, so that a cold start
// joins one (setns, microseconds) instead of running the plugin chain (one
// bridge ADD is ~65 ms here). A background thread keeps `size` ready and
// cleans the ones given back (CNI DEL, conntrack flush) off the invoke path;
// a namespace is never reused by another sandbox. When none is ready, take()
// waits (and says so in the log and the stats) rather than failing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "host/network/network_attachment.h"

namespace wick::network {

struct NetworkPoolOptions {
  std::string pin_dir;  // this pool's pins (reclaimed at start: all of them are ours)
  size_t size = 4;      // namespaces kept ready
  std::chrono::milliseconds take_timeout{30'000};
};

struct NetworkPoolStats {
  uint64_t attached = 0;  // namespaces made and attached
  uint64_t attach_failures = 0;
  uint64_t taken = 0;
  uint64_t waited = 0;  // takes that found the pool empty
  double wait_ms_total = 0;
  double attach_ms_total = 0;  // time spent in CNI ADD
  size_t ready = 0;
};

class NetworkPool;

// A taken namespace. Dropping it gives it back to be cleaned.
class NetworkLease {
 public:
  ~NetworkLease();
  NetworkLease(const NetworkLease&) = delete;
  NetworkLease& operator=(const NetworkLease&) = delete;
  int netnsFd() const { return attachment_.netnsFd(); }
  const CniResult& result() const { return attachment_.result(); }

 private:
  friend class NetworkPool;
  NetworkLease(std::shared_ptr<NetworkPool> pool, NetworkAttachment attachment)
      : pool_(std::move(pool)), attachment_(std::move(attachment)) {}
  std::shared_ptr<NetworkPool> pool_;
  NetworkAttachment attachment_;
};

class NetworkPool : public std::enable_shared_from_this<NetworkPool> {
 public:
  // Reclaims what a crashed run left in pin_dir, then starts filling.
  static Result<std::shared_ptr<NetworkPool>> start(std::shared_ptr<const CniRunner> runner,
                                                    NetworkPoolOptions options);
  ~NetworkPool();

  // Blocks until a namespace is ready (or the timeout).
  Result<std::unique_ptr<NetworkLease>> take();
  // Stops the thread and detaches every namespace it holds; leases still out
  // are detached when dropped. Safe to call twice.
  void stop();
  NetworkPoolStats stats() const;
  // The gateway address CNI gives this network's sandboxes, known once the
  // first namespace is attached (waits for it, up to the take timeout).
  Result<std::string> gateway();
  const std::string& name() const { return runner_->network().name; }

 private:
  NetworkPool(std::shared_ptr<const CniRunner> runner, NetworkPoolOptions options)
      : runner_(std::move(runner)), options_(std::move(options)) {}
  friend class NetworkLease;
  void giveBack(NetworkAttachment attachment);
  void run();
  std::string nextContainerId();

  std::shared_ptr<const CniRunner> runner_;
  NetworkPoolOptions options_;
  std::string id_prefix_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<NetworkAttachment> ready_;
  std::deque<NetworkAttachment> to_clean_;
  size_t waiting_ = 0;
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  NetworkPoolStats stats_;
  std::string gateway_;
  std::thread thread_;
};

}  // namespace wick::network
