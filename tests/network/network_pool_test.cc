// The pool of attached namespaces with Debian's bridge + host-local plugins:
// it fills to its size in the background, a take joins in microseconds, a
// namespace given back is cleaned (CNI DEL: lease and veth gone), an empty
// pool makes a take wait and counts it, stop() and a crashed run's reclaim
// leave nothing behind.
#include "host/network/network_pool.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "host/network/default_network.h"
#include "host/network/host_links.h"
#include "host/network/networks.h"

namespace wick::network {
namespace {

namespace fs = std::filesystem;

class NetworkPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tag = std::to_string(::getpid() % 100000);
    root_ = "/run/wick-test-pool-" + tag;
    fs::create_directories(root_);
    bridge_ = "wkp" + tag;
    DefaultNetworkOptions options{.name = "wickpool" + tag,
                                  .bridge = bridge_,
                                  .subnet = "10.133." + std::to_string(::getpid() % 250) + ".0/24",
                                  .lease_dir = root_ + "/leases"};
    auto network = parseCniNetwork(defaultConflist(options), "test");
    ASSERT_TRUE(network.ok()) << network.error().message();
    lease_dir_ = root_ + "/leases/" + network->name;
    runner_ = std::make_shared<const CniRunner>(*network, defaultPluginDirs());
  }
  void TearDown() override {
    (void)deleteBridgeIfUnused(bridge_);
    fs::remove_all(root_);
  }

  int leases() const {
    int count = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(lease_dir_, ec))
      count +=
          std::isdigit(static_cast<unsigned char>(entry.path().filename().string()[0])) ? 1 : 0;
    return count;
  }
  int pins() const {
    int count = 0;
    std::error_code ec;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(root_ + "/pins", ec))
      ++count;
    return count;
  }
  std::shared_ptr<NetworkPool> start(size_t size) {
    auto pool = NetworkPool::start(runner_, {.pin_dir = root_ + "/pins", .size = size});
    EXPECT_TRUE(pool.ok()) << pool.error().message();
    return pool.ok() ? *pool : nullptr;
  }
  static bool waitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 200 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return done();
  }

  std::string root_, bridge_, lease_dir_;
  std::shared_ptr<const CniRunner> runner_;
};

TEST_F(NetworkPoolTest, FillsTakesAndCleansWhatIsGivenBack) {
  auto pool = start(2);
  ASSERT_TRUE(pool);
  ASSERT_TRUE(waitFor([&] { return pool->stats().ready == 2; }));
  EXPECT_EQ(leases(), 2);
  {
    const auto started = std::chrono::steady_clock::now();
    auto lease = pool->take();
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(lease.ok()) << lease.error().message();
    EXPECT_LT(took, std::chrono::milliseconds(5));
    EXPECT_GE((*lease)->netnsFd(), 0);
    EXPECT_FALSE((*lease)->result().ipv4().empty());
    EXPECT_EQ(pool->stats().waited, 0u);
    // The pool refills behind the take.
    ASSERT_TRUE(waitFor([&] { return pool->stats().ready == 2; }));
    EXPECT_EQ(leases(), 3);
  }
  // Given back: cleaned (its lease released), never handed out again.
  ASSERT_TRUE(waitFor([&] { return leases() == 2; }));
  pool->stop();
  EXPECT_EQ(leases(), 0);
  EXPECT_EQ(pins(), 0);
}

TEST_F(NetworkPoolTest, AnEmptyPoolMakesATakeWaitAndCountsIt) {
  auto pool = start(0);
  ASSERT_TRUE(pool);
  auto lease = pool->take();
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  auto stats = pool->stats();
  EXPECT_EQ(stats.waited, 1u);
  EXPECT_GT(stats.wait_ms_total, 0.0);
  EXPECT_EQ(stats.attached, 1u);
  lease->reset();
  pool->stop();
  EXPECT_EQ(leases(), 0);
}

TEST_F(NetworkPoolTest, ACrashedPoolsNamespacesAreReclaimedAtTheNextStart) {
  pid_t child = ::fork();
  if (child == 0) {
    auto pool = NetworkPool::start(runner_, {.pin_dir = root_ + "/pins", .size = 2});
    for (int i = 0; i < 200 && pool.ok() && (*pool)->stats().ready < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ::_exit(pool.ok() && (*pool)->stats().ready == 2 ? 0 : 1);  // no destructor runs
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(leases(), 2);
  EXPECT_EQ(pins(), 2);
  auto pool = start(0);
  ASSERT_TRUE(pool);
  EXPECT_EQ(leases(), 0);
  EXPECT_EQ(pins(), 0);
  pool->stop();
}

// An egress policy is one nftables table per CNI network, on its bridge: two
// of the daemon's networks on one CNI network (or one bridge) would have the
// second's policy replace the first's (a "restricted" network with internet,
// or "default" without), and stopping one would remove the other's. Refused,
// before anything is set up.
TEST_F(NetworkPoolTest, TwoNetworksOnOneCniNetworkOrBridgeAreRefused) {
  const std::string conflist = root_ + "/shared.conflist";
  const std::string other = root_ + "/other.conflist";
  const std::string tag = std::to_string(::getpid() % 100000);
  std::ofstream(conflist) << defaultConflist(
      {.name = "wickshare" + tag,
       .bridge = bridge_,
       .subnet = "10.133." + std::to_string(::getpid() % 250) + ".0/24",
       .lease_dir = root_ + "/leases"});
  std::ofstream(other) << defaultConflist(
      {.name = "wickother" + tag,
       .bridge = bridge_,
       .subnet = "10.133." + std::to_string(::getpid() % 250) + ".0/24",
       .lease_dir = root_ + "/leases"});
  NetworkSettings open;
  open.name = "default";
  open.cni_config_path = conflist;
  open.pool_size = 0;
  NetworkSettings locked = open;
  locked.name = "locked";
  locked.internet = false;
  locked.subnet_ids = {"subnet-locked"};
  auto shared = Networks::open({open, locked}, root_);
  ASSERT_FALSE(shared.ok()) << "two networks on CNI network wickshare" << tag << " were started";
  EXPECT_NE(shared.error().message().find("default and locked"), std::string::npos)
      << shared.error().message();
  EXPECT_FALSE(linkExists(bridge_)) << "refused after setting up";
  locked.cni_config_path = other;
  auto same_bridge = Networks::open({open, locked}, root_);
  ASSERT_FALSE(same_bridge.ok()) << "two networks on bridge " << bridge_ << " were started";
  EXPECT_NE(same_bridge.error().message().find(bridge_), std::string::npos)
      << same_bridge.error().message();
  EXPECT_FALSE(linkExists(bridge_)) << "refused after setting up";
}

// A network's name names its directory under <state_dir>/net (its pins and
// the resolv.conf its sandboxes get, truncated at start and removed at stop):
// one that is not a plain name is refused, never followed out of it.
TEST_F(NetworkPoolTest, ANetworkNameThatIsNotAPlainNameIsRefused) {
  const std::string conflist = root_ + "/plain.conflist";
  std::ofstream(conflist) << defaultConflist(
      {.name = "wickplain" + std::to_string(::getpid() % 100000),
       .bridge = bridge_,
       .subnet = "10.133." + std::to_string(::getpid() % 250) + ".0/24",
       .lease_dir = root_ + "/leases"});
  fs::create_directories(root_ + "/state");
  for (const std::string name : {"../escape", "", "a/b", "..", "."}) {
    NetworkSettings settings;
    settings.name = name;
    settings.cni_config_path = conflist;
    settings.pool_size = 0;
    auto networks = Networks::open({settings}, root_ + "/state");
    EXPECT_FALSE(networks.ok()) << "network '" << name << "' was started";
    if (!networks.ok()) {
      EXPECT_NE(networks.error().message().find("network name"), std::string::npos)
          << networks.error().message();
    }
    networks = Error("dropped");  // stopped before the next
  }
  EXPECT_FALSE(fs::exists(root_ + "/state/escape"));
  EXPECT_FALSE(fs::exists(root_ + "/state/resolv.conf"));
  EXPECT_FALSE(linkExists(bridge_)) << "refused after setting up";
}

// A bridge's name is an interface name: at most 15 characters (IFNAMSIZ).
// A longer one failed every ADD in the pool's background, and the operator
// only saw "no gateway known" after the take timeout.
TEST_F(NetworkPoolTest, ABridgeNameLongerThanAnInterfaceNameIsRefused) {
  const std::string conflist = root_ + "/long.conflist";
  const std::string long_bridge = "wkp-sixteen-char";
  ASSERT_EQ(long_bridge.size(), 16u);
  std::ofstream(conflist) << defaultConflist(
      {.name = "wicklong" + std::to_string(::getpid() % 100000),
       .bridge = long_bridge,
       .subnet = "10.133." + std::to_string(::getpid() % 250) + ".0/24",
       .lease_dir = root_ + "/leases"});
  NetworkSettings settings;
  settings.name = "long";
  settings.cni_config_path = conflist;
  settings.pool_size = 0;
  const auto started = std::chrono::steady_clock::now();
  auto networks = Networks::open({settings}, root_);
  ASSERT_FALSE(networks.ok());
  EXPECT_NE(networks.error().message().find(long_bridge), std::string::npos)
      << networks.error().message();
  EXPECT_NE(networks.error().message().find("15"), std::string::npos) << networks.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

// A resolver is an address: "10.0.0.0/8" passed the CIDR check of the policy,
// went into resolv.conf as "nameserver 10.0.0.0/8" and opened port 53 of every
// host address in that range to the sandboxes.
TEST_F(NetworkPoolTest, AResolverThatIsNotAnAddressIsRefused) {
  const std::string conflist = root_ + "/dns.conflist";
  std::ofstream(conflist) << defaultConflist(
      {.name = "wickdns" + std::to_string(::getpid() % 100000),
       .bridge = bridge_,
       .subnet = "10.133." + std::to_string(::getpid() % 250) + ".0/24",
       .lease_dir = root_ + "/leases"});
  for (const std::string server : {"10.0.0.0/8", "0.0.0.0/0", "resolver.example", ""}) {
    NetworkSettings settings;
    settings.name = "dns";
    settings.cni_config_path = conflist;
    settings.pool_size = 0;
    settings.dns = {server};
    auto networks = Networks::open({settings}, root_);
    EXPECT_FALSE(networks.ok()) << "network with resolver '" << server << "' was started";
    if (!networks.ok()) {
      EXPECT_NE(networks.error().message().find("'" + server + "'"), std::string::npos)
          << networks.error().message();
    }
  }
  EXPECT_FALSE(linkExists(bridge_)) << "refused after setting up";
}

}  // namespace
}  // namespace wick::network
