// The daemon's networks: for each one the operator configures, its CNI
// runner, its egress policy, its pool of attached namespaces and the
// resolv.conf its sandboxes get. A function without VpcConfig gets the network
// named "default" (if there is one); a VpcConfig selects the network whose
// subnet and security-group ids it names, as VPC attachment does on Lambda.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/network/dns_forwarder.h"
#include "host/network/egress_policy.h"
#include "host/network/network_pool.h"

namespace wick::network {

inline constexpr const char* kDefaultNetworkName = "default";

struct NetworkSettings {
  std::string name;
  std::string cni_config_path;  // empty: wick's default network (bridge wick0)
  std::vector<std::string> cni_path;
  size_t pool_size = 4;
  std::vector<std::string> dns;  // empty: the host's reachable resolvers, else a forwarder
  std::string host_resolv_conf = "/etc/resolv.conf";  // where the host's resolvers are
  bool internet = true;
  bool lambda_api = true;          // functions may call wickd's Lambda API on the gateway
  std::vector<std::string> allow;  // CIDR[:PORT]
  std::vector<std::string> deny;   // CIDR; empty: kDefaultDeny
  std::vector<std::string> subnet_ids;
  std::vector<std::string> security_group_ids;
};

// What an environment holds while it lives: its namespace and the file to
// bind on /etc/resolv.conf.
struct NetworkGrant {
  std::unique_ptr<NetworkLease> lease;
  std::string resolv_conf_path;
  std::string lambda_endpoint;  // AWS_ENDPOINT_URL_LAMBDA, if the network allows it
};

class Networks {
 public:
  // Installs each network's policy and starts its pool (reclaiming a crashed
  // run's namespaces under <state_dir>/net/<name>).
  static Result<std::unique_ptr<Networks>> open(const std::vector<NetworkSettings>& settings,
                                                const std::string& state_dir);
  ~Networks();

  // The network a function's configuration selects ("" for loopback only, when
  // no default network is configured); an error names unknown ids.
  Result<std::string> select(const nlohmann::json& vpc_config) const;
  // Blocks until a namespace of `network` is ready.
  Result<NetworkGrant> take(const std::string& network);
  // Lets each network's sandboxes reach wickd's Lambda API on their gateway at
  // `port` (the policy gains that one exception); returns the gateway
  // addresses wickd must also listen on.
  Result<std::vector<std::string>> openLambdaApi(uint16_t port);
  // Pools stopped (their namespaces detached), policies and bridges removed.
  void stop();
  std::map<std::string, NetworkPoolStats> stats() const;
  // Whether any network serves functions (else every sandbox has only loopback).
  bool configured() const { return !networks_.empty(); }

 private:
  struct Network {
    NetworkSettings settings;
    std::shared_ptr<NetworkPool> pool;
    std::optional<EgressPolicy> policy;
    EgressRules rules;
    std::string lambda_endpoint;
    std::string resolv_conf_path;
    std::string bridge;
    std::unique_ptr<DnsForwarder> dns_forwarder;  // the host resolves on loopback only
    bool stopped = false;
  };
  static Status start(Network& network, const std::string& dir);
  std::map<std::string, Network> networks_;
};

}  // namespace wick::network
