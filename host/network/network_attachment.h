// One network namespace attached to a CNI network: the one owner of the
// namespace (an fd), of its CNI attachment (veth, address lease, NAT rules
// that the plugins made) and of the conntrack state of its address. detach()
// (or the destructor) runs CNI DEL while the namespace still exists, flushes
// conntrack, then frees the namespace.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "host/network/cni_runner.h"
#include "sandbox/net_namespace.h"

namespace wick::network {

class NetworkAttachment {
 public:
  // A new namespace, pinned at <pin_dir>/<container_id> and attached under
  // `container_id` (CNI_CONTAINERID).
  static Result<NetworkAttachment> attach(std::shared_ptr<const CniRunner> runner,
                                          std::string container_id, const std::string& pin_dir);
  // Detach every namespace pinned in `pin_dir` under a name starting with
  // `prefix` that `is_stale` says nobody holds any more (what a crashed run
  // left); how many there were.
  static Result<int> reclaim(const CniRunner& runner, const std::string& pin_dir,
                             const std::string& prefix,
                             const std::function<bool(const std::string&)>& is_stale);

  NetworkAttachment(NetworkAttachment&& other) noexcept { *this = std::move(other); }
  NetworkAttachment& operator=(NetworkAttachment&& other) noexcept;
  NetworkAttachment(const NetworkAttachment&) = delete;
  NetworkAttachment& operator=(const NetworkAttachment&) = delete;
  ~NetworkAttachment();

  int netnsFd() const { return netns_ ? netns_->fd() : -1; }
  const std::string& containerId() const { return container_id_; }
  const CniResult& result() const { return result_; }
  const CniRunner& runner() const { return *runner_; }

  // CNI DEL, conntrack flush, namespace freed. Safe to call twice.
  Status detach();

 private:
  NetworkAttachment() = default;
  Status isolateFromOtherSandboxes() const;
  std::shared_ptr<const CniRunner> runner_;
  std::optional<sandbox::NetNamespace> netns_;
  std::string container_id_;
  CniResult result_;
};

}  // namespace wick::network
