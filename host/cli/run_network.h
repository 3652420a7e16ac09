// `wick run --net`: which network the sandbox gets. `none` is its own
// namespace with only lo; `host` the host's namespace; `default` (or any
// other CNI network given by --net-config) a namespace attached through CNI,
// with /etc/resolv.conf bound from a file written for it. Everything made is
// undone when the RunNetwork goes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/network/egress_policy.h"
#include "host/network/network_attachment.h"
#include "sandbox/spec.h"

namespace wick::cli {

struct RunNetworkOptions {
  std::string mode = "none";  // none | host | default
  std::string config_path;    // a CNI conflist; empty: wick's default network
  std::vector<std::string> plugin_dirs;
  std::vector<std::string> dns;  // nameservers; empty: CNI's, else the host's reachable ones
  // The egress policy (networks with a bridge): see host/network/egress_policy.h.
  std::vector<std::string> allow;  // CIDR[:PORT]
  std::vector<std::string> deny;   // CIDR; empty: the default private ranges
  bool no_internet = false;
  std::string runtime_dir = "/run/wick";
};

// Checks the flags without creating anything; a message on error.
std::optional<std::string> checkRunNetworkOptions(const RunNetworkOptions& options);

class RunNetwork {
 public:
  // Attaches a namespace and points `spec` at it (netns_fd, the resolv.conf bind).
  static Result<std::unique_ptr<RunNetwork>> setUp(const RunNetworkOptions& options,
                                                   sandbox::SandboxSpec& spec);
  ~RunNetwork();
  // Detach, remove resolv.conf, and the bridge if no sandbox uses it any more.
  Status tearDown();

  const network::NetworkAttachment* attachment() const {
    return attachment_ ? &*attachment_ : nullptr;
  }

 private:
  std::optional<network::NetworkAttachment> attachment_;
  std::optional<network::EgressPolicy> policy_;
  std::string resolv_conf_path_;
  std::string bridge_;
  std::string dir_;  // <runtime>/net/<network>: pins and resolv.conf files
};

}  // namespace wick::cli
