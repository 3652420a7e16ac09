// The network pool's figures (scripts/bench-network): how fast a pool of N
// fills from empty (CNI ADD of Debian's bridge + host-local, one background
// thread), how long a take() from a ready pool takes, how fast stop() detaches
// N (CNI DEL + conntrack flush). Prints one JSON line.
//   bench_network_pool N SUBNET BRIDGE LEASE_DIR PIN_DIR
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "host/network/default_network.h"
#include "host/network/host_links.h"
#include "host/network/network_pool.h"

using namespace wick::network;
using Clock = std::chrono::steady_clock;

static double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: bench_network_pool N SUBNET BRIDGE LEASE_DIR PIN_DIR\n");
    return 2;
  }
  const size_t size = std::stoul(argv[1]);
  DefaultNetworkOptions options{
      .name = "wickbench", .bridge = argv[3], .subnet = argv[2], .lease_dir = argv[4]};
  auto network = parseCniNetwork(defaultConflist(options), "bench");
  if (!network) return std::fprintf(stderr, "%s\n", network.error().message().c_str()), 1;
  auto runner = std::make_shared<const CniRunner>(*network, defaultPluginDirs());

  const auto started = Clock::now();
  auto pool = NetworkPool::start(runner, {.pin_dir = argv[5], .size = size});
  if (!pool) return std::fprintf(stderr, "%s\n", pool.error().message().c_str()), 1;
  while ((*pool)->stats().ready < size)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double fill_ms = msSince(started);
  const auto filled = (*pool)->stats();

  // Takes from a ready pool: each one waits until the pool is full again.
  std::vector<double> takes;
  for (int i = 0; i < 20; ++i) {
    while ((*pool)->stats().ready < size)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto taking = Clock::now();
    auto lease = (*pool)->take();
    takes.push_back(msSince(taking) * 1000.0);
    if (!lease) return std::fprintf(stderr, "%s\n", lease.error().message().c_str()), 1;
  }
  std::sort(takes.begin(), takes.end());
  while ((*pool)->stats().ready < size)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto stopping = Clock::now();
  (*pool)->stop();
  const double stop_ms = msSince(stopping);
  (void)deleteBridgeIfUnused(argv[3]);
  std::printf(
      "{\"pool_size\":%zu,\"fill_ms\":%.1f,\"per_second\":%.1f,\"cni_add_ms_mean\":%.1f,"
      "\"take_us_median\":%.1f,\"take_us_max\":%.1f,\"stop_ms\":%.1f,\"detach_per_second\":%.1f}\n",
      size, fill_ms, size * 1000.0 / fill_ms, filled.attach_ms_total / filled.attached,
      takes[takes.size() / 2], takes.back(), stop_ms, size * 1000.0 / stop_ms);
  return 0;
}
