// A DNS forwarder on a network's gateway, for hosts whose only resolvers are
// on loopback (systemd-resolved's 127.0.0.53, a local dnsmasq or unbound):
// a sandbox cannot reach the host's loopback, so its /etc/resolv.conf names
// the gateway and this relays each query, over UDP and over TCP, to the host's
// resolvers and the answer back. It reads nothing of a query beyond its
// length: the host's resolver does the resolving, and its caching and policy
// apply to sandboxes as to the host. One client address (one sandbox) takes
// at most 16 TCP connections and an eighth of the UDP queries in flight; a TCP
// client must send its query, and take its answer, within the idle time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace wick::network {

struct DnsForwarderOptions {
  std::string listen_address;          // the gateway (port 53)
  uint16_t port = 53;                  // tests use another
  std::vector<std::string> upstreams;  // "127.0.0.53" or "127.0.0.53:5353"; tried in order
  size_t max_in_flight = 512;          // UDP queries waiting for an answer; more are dropped
  // A TCP client must send a query, and take its answer, within this.
  std::chrono::milliseconds tcp_idle{10'000};
};

class DnsForwarder {
 public:
  // Bound and serving on a thread of its own when this returns.
  static Result<std::unique_ptr<DnsForwarder>> start(const DnsForwarderOptions& options);
  ~DnsForwarder();  // stops serving; in-flight queries are dropped
  DnsForwarder(const DnsForwarder&) = delete;
  DnsForwarder& operator=(const DnsForwarder&) = delete;

  struct Stats {
    uint64_t udp_queries = 0;
    uint64_t tcp_queries = 0;
    uint64_t answered = 0;
    uint64_t dropped = 0;  // no upstream answered in time, or too many in flight
  };
  Stats stats() const;

 private:
  class Impl;
  explicit DnsForwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wick::network
