// The CNI runner against plugins that record what they were given: the
// chain's order, the CNI_* variables, prevResult handed down, DEL in reverse,
// the plugin's error object reported. (Debian's real plugins are driven by
// tests/network/test_wick_run_net.py.)
#include "host/network/cni_runner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "host/network/egress_policy.h"
#include "host/network/resolv_conf.h"

namespace wick::network {
namespace {

class CniRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-cni-test-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    // Appends "<type> <command> <id> <netns> <ifname>" and its stdin to the log;
    // prints a result naming itself.
    writePlugin("recorder", R"(#!/bin/sh
config=$(cat)
echo "$(basename $0) $CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME" >> "$(dirname $0)/log"
echo "$config" >> "$(dirname $0)/log"
echo '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.7/24","gateway":"10.9.0.1"}],"dns":{"nameservers":["10.9.0.53"],"search":["svc.local"]},"by":"'$(basename $0)'"}'
)");
    std::filesystem::copy_file(dir_ + "/recorder", dir_ + "/second");
    writePlugin("failing", R"(#!/bin/sh
cat > /dev/null
echo '{"cniVersion":"1.0.0","code":11,"msg":"no addresses left","details":"range full"}'
exit 1
)");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void writePlugin(const std::string& name, const std::string& script) {
    std::ofstream(dir_ + "/" + name) << script;
    ::chmod((dir_ + "/" + name).c_str(), 0755);
  }
  std::string log() {
    std::ifstream in(dir_ + "/log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  CniRunner runner(const std::string& plugins_json) {
    auto network = parseCniNetwork(
        R"({"cniVersion":"1.0.0","name":"testnet","plugins":)" + plugins_json + "}", "test");
    EXPECT_TRUE(network.ok()) << network.error().message();
    return CniRunner(*network, {"/nonexistent", dir_});
  }
  std::string dir_;
};

TEST_F(CniRunnerTest, AddRunsTheChainInOrderHandingDownPrevResult) {
  auto chain = runner(R"([{"type":"recorder","x":1},{"type":"second"}])");
  auto result = chain.add({.container_id = "wick-a", .netns_path = "/proc/1/ns/net"});
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->raw["by"], "second");
  EXPECT_EQ(result->ipv4(), "10.9.0.7");
  EXPECT_EQ(result->gateway, "10.9.0.1");
  EXPECT_EQ(result->nameservers, std::vector<std::string>{"10.9.0.53"});
  std::string text = log();
  auto first = text.find("recorder ADD wick-a /proc/1/ns/net eth0\n");
  auto second = text.find("second ADD wick-a /proc/1/ns/net eth0\n");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, second);
  // The first plugin gets the network's name and version, and no prevResult.
  std::string first_config = text.substr(first, second - first);
  EXPECT_NE(first_config.find(R"("name":"testnet")"), std::string::npos) << first_config;
  EXPECT_NE(first_config.find(R"("x":1)"), std::string::npos) << first_config;
  EXPECT_EQ(first_config.find("prevResult"), std::string::npos) << first_config;
  EXPECT_NE(text.substr(second).find(R"("prevResult":{)"), std::string::npos) << text;
  EXPECT_NE(text.substr(second).find(R"("by":"recorder")"), std::string::npos) << text;
}

TEST_F(CniRunnerTest, DelRunsTheChainInReverseWithTheAddResult) {
  auto chain = runner(R"([{"type":"recorder"},{"type":"second"}])");
  nlohmann::json prev = {{"marker", "from-add"}};
  ASSERT_TRUE(chain.del({.container_id = "wick-b", .netns_path = ""}, prev).ok());
  std::string text = log();
  auto second = text.find("second DEL wick-b  eth0\n");
  auto first = text.find("recorder DEL wick-b  eth0\n");
  ASSERT_NE(second, std::string::npos) << text;
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_LT(second, first);
  EXPECT_NE(text.find(R"("prevResult":{"marker":"from-add"})"), std::string::npos) << text;
}

TEST_F(CniRunnerTest, AFailedAddReportsThePluginsErrorAndUndoesTheChain) {
  auto chain = runner(R"([{"type":"recorder"},{"type":"failing"}])");
  auto result = chain.add({.container_id = "wick-c", .netns_path = "/proc/1/ns/net"});
  ASSERT_FALSE(result.ok());
  const std::string& message = result.error().message();
  EXPECT_NE(message.find("no addresses left (range full)"), std::string::npos) << message;
  EXPECT_NE(message.find("wick-c"), std::string::npos) << message;
  EXPECT_NE(log().find("recorder DEL wick-c"), std::string::npos) << log();
}

// A plugin that says it succeeded but prints no result (or one that is not an
// object) may have made a veth and taken an address: the chain is undone too.
TEST_F(CniRunnerTest, AnAddWithoutAResultUndoesTheChain) {
  writePlugin("mute", R"(#!/bin/sh
config=$(cat)
echo "$(basename $0) $CNI_COMMAND $CNI_CONTAINERID" >> "$(dirname $0)/log"
[ "$CNI_COMMAND" = ADD ] && echo 'not json'
exit 0
)");
  writePlugin("listing", R"(#!/bin/sh
config=$(cat)
echo "$(basename $0) $CNI_COMMAND $CNI_CONTAINERID" >> "$(dirname $0)/log"
[ "$CNI_COMMAND" = ADD ] && echo '[1, 2]'
exit 0
)");
  auto middle = runner(R"([{"type":"recorder"},{"type":"mute"},{"type":"second"}])");
  auto result = middle.add({.container_id = "wick-e", .netns_path = "/proc/1/ns/net"});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("printed no JSON result"), std::string::npos)
      << result.error().message();
  EXPECT_NE(log().find("mute DEL wick-e"), std::string::npos) << log();
  EXPECT_NE(log().find("recorder DEL wick-e"), std::string::npos) << log();
  auto last = runner(R"([{"type":"recorder"},{"type":"listing"}])");
  ASSERT_FALSE(last.add({.container_id = "wick-f", .netns_path = "/proc/1/ns/net"}).ok());
  EXPECT_NE(log().find("listing DEL wick-f"), std::string::npos) << log();
  EXPECT_NE(log().find("recorder DEL wick-f"), std::string::npos) << log();
}

TEST_F(CniRunnerTest, AMissingPluginIsNamedWithTheSearchPath) {
  auto chain = runner(R"([{"type":"absent"}])");
  auto result = chain.add({.container_id = "wick-d", .netns_path = "/proc/1/ns/net"});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("'absent' not found in /nonexistent:" + dir_),
            std::string::npos)
      << result.error().message();
}

TEST(CniNetworkConfig, RejectsWhatTheSpecForbids) {
  EXPECT_FALSE(parseCniNetwork("[]", "t").ok());
  EXPECT_FALSE(parseCniNetwork(R"({"cniVersion":"1.0.0","plugins":[{"type":"x"}]})", "t").ok());
  EXPECT_FALSE(parseCniNetwork(R"({"name":"n","plugins":[{"type":"x"}]})", "t").ok());
  EXPECT_FALSE(parseCniNetwork(R"({"cniVersion":"1.0.0","name":"n","plugins":[]})", "t").ok());
  EXPECT_FALSE(
      parseCniNetwork(R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../sh"}]})", "t")
          .ok());
  auto single = parseCniNetwork(R"({"cniVersion":"1.0.0","name":"n","type":"bridge"})", "t");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->plugins.size(), 1u);
  EXPECT_EQ(single->bridgeName(), "cni0");
}

// A CNI network name may hold '.' (the spec's names); its policy's table is
// named with '_' for it, as for '-'.
TEST(EgressPolicy, ACniNameWithADotHasAPolicy) {
  auto network =
      parseCniNetwork(R"({"cniVersion":"1.0.0","name":"wick.prod","type":"bridge"})", "t");
  ASSERT_TRUE(network.ok()) << network.error().message();
  EgressRules rules;
  rules.network = network->name;
  rules.bridge = "br0";
  auto script = renderEgressPolicy(rules);
  ASSERT_TRUE(script.ok()) << script.error().message();
  EXPECT_NE(script->find("table inet wick_wick_prod {\n"), std::string::npos) << *script;
  EXPECT_EQ(egressTableName("wick.prod"), "wick_wick_prod");
  rules.network = "wick/prod";
  EXPECT_FALSE(renderEgressPolicy(rules).ok());
}

TEST(ResolvConf, RendersAndDropsTheHostsLoopbackResolvers) {
  DnsSettings dns{{"198.18.0.53"}, {"a.example"}, {"ndots:2"}};
  EXPECT_EQ(renderResolvConf(dns),
            "# written by wick for this sandbox\nnameserver 198.18.0.53\nsearch a.example\n"
            "options ndots:2\n");
  char path[] = "/tmp/wick-resolv-XXXXXX";
  int fd = ::mkstemp(path);
  std::string host = "nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch corp\n";
  ASSERT_EQ(::write(fd, host.data(), host.size()), static_cast<ssize_t>(host.size()));
  ::close(fd);
  auto reachable = reachableHostDns(path);
  ::unlink(path);
  EXPECT_EQ(reachable.nameservers, std::vector<std::string>{"192.0.2.53"});
  EXPECT_EQ(reachable.search, std::vector<std::string>{"corp"});
}

}  // namespace
}  // namespace wick::network
