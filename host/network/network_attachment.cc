#include "host/network/network_attachment.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>

#include <thread>

#include "host/network/conntrack.h"
#include "host/network/host_links.h"

namespace wick::network {

namespace {

// The IPv4 addresses inside a network namespace (but loopback's), read from a
// short-lived thread that joins it.
std::vector<std::string> ipv4Addresses(int netns_fd) {
  std::vector<std::string> addresses;
  std::thread([&addresses, netns_fd] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) return;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return;
    for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
      if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
      char text[INET_ADDRSTRLEN];
      auto* address = reinterpret_cast<sockaddr_in*>(entry->ifa_addr);
      if (::inet_ntop(AF_INET, &address->sin_addr, text, sizeof text) == nullptr) continue;
      if (std::string(text).starts_with("127.")) continue;
      addresses.push_back(text);
    }
    ::freeifaddrs(list);
  }).join();
  return addresses;
}

}  // namespace

Result<NetworkAttachment> NetworkAttachment::attach(std::shared_ptr<const CniRunner> runner,
                                                    std::string container_id,
                                                    const std::string& pin_dir) {
  auto netns = sandbox::NetNamespace::create(pin_dir + "/" + container_id);
  if (!netns) return std::move(netns).error().context("attach " + container_id);
  auto result = runner->add({.container_id = container_id, .netns_path = netns->path()});
  if (!result) return std::move(result).error();  // the pin goes with `netns`
  NetworkAttachment attachment;
  attachment.runner_ = runner;
  attachment.netns_ = std::move(*netns);
  attachment.container_id_ = std::move(container_id);
  attachment.result_ = std::move(*result);
  WICK_TRY(attachment.isolateFromOtherSandboxes(), "attach " + attachment.container_id_);
  return attachment;
}

Status NetworkAttachment::isolateFromOtherSandboxes() const {
  const std::string bridge = runner_->network().bridgeName();
  if (bridge.empty() || !result_.raw.contains("interfaces")) return {};
  // The host end of the veth: the interface outside the sandbox that is not the bridge.
  for (const auto& interface : result_.raw["interfaces"]) {
    const std::string name = interface.value("name", "");
    if (name.empty() || name == bridge || interface.contains("sandbox")) continue;
    WICK_TRY(isolateBridgePort(name), "isolate from other sandboxes");
  }
  return {};
}

Result<int> NetworkAttachment::reclaim(const CniRunner& runner, const std::string& pin_dir,
                                       const std::string& prefix,
                                       const std::function<bool(const std::string&)>& is_stale) {
  auto names = sandbox::NetNamespace::listPinned(pin_dir, prefix);
  if (!names) return std::move(names).error().context("reclaim network attachments");
  Status first;
  int reclaimed = 0;
  for (const auto& name : *names) {
    if (!is_stale(name)) continue;
    ++reclaimed;
    auto netns = sandbox::NetNamespace::adoptPinned(pin_dir + "/" + name);
    // Its addresses, read before DEL takes them: their NAT state goes too.
    const auto addresses = netns ? ipv4Addresses(netns->fd()) : std::vector<std::string>();
    // No namespace (a crash before the pin was bound): DEL still frees the lease.
    Status deleted = runner.del({.container_id = name, .netns_path = netns ? netns->path() : ""},
                                nlohmann::json());
    if (!deleted && first.ok()) first = std::move(deleted).error();
    for (const auto& address : addresses)
      if (auto flushed = flushConntrack(address); !flushed && first.ok())
        first = std::move(flushed).error();
  }
  if (!first) return std::move(first).error().context("reclaim network attachments");
  return reclaimed;
}

NetworkAttachment& NetworkAttachment::operator=(NetworkAttachment&& other) noexcept {
  if (this != &other) {
    (void)detach();
    runner_ = std::move(other.runner_);
    netns_ = std::move(other.netns_);
    other.netns_.reset();  // a moved-from optional stays engaged
    container_id_ = std::move(other.container_id_);
    result_ = std::move(other.result_);
  }
  return *this;
}

NetworkAttachment::~NetworkAttachment() {
  (void)detach();
}

Status NetworkAttachment::detach() {
  if (!netns_) return {};
  Status result =
      runner_->del({.container_id = container_id_, .netns_path = netns_->path()}, result_.raw);
  // The namespace goes with the fd, and its veth with it, whatever DEL said.
  netns_.reset();
  if (const std::string address = result_.ipv4(); !address.empty())
    if (auto flushed = flushConntrack(address); !flushed && result.ok())
      result = std::move(flushed).error();
  return result;
}

}  // namespace wick::network
