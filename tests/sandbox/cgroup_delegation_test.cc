// wickd under a delegated cgroup (systemd's Delegate=yes): finding its own
// cgroup in /proc/self/cgroup on v1, hybrid and v2 hosts, and the v2 layout it
// makes (daemon in <own>/daemon, sandboxes under <own>/<parent>) against a
// directory laid out like cgroup2. tests/e2e/test_service.py runs the real
// thing on this host's v1 controllers.
#include "sandbox/cgroup_delegation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/unique_fd.h"

namespace wick::sandbox {
namespace {

namespace fs = std::filesystem;

const CgroupHierarchy kV1 = CgroupHierarchy::v1At({{"memory", "/sys/fs/cgroup/memory"},
                                                   {"cpu", "/sys/fs/cgroup/cpu,cpuacct"},
                                                   {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"},
                                                   {"pids", "/sys/fs/cgroup/pids"},
                                                   {"freezer", "/sys/fs/cgroup/freezer"}});

// What a hybrid host under systemd shows for a service with Delegate=yes.
constexpr const char* kHybridService =
    "13:misc:/\n12:pids:/system.slice/wickd.service\n11:freezer:/system.slice/wickd.service\n"
    "8:memory:/system.slice/wickd.service\n4:cpu,cpuacct:/system.slice/wickd.service\n"
    "1:name=systemd:/system.slice/wickd.service\n0::/system.slice/wickd.service\n";

TEST(CgroupDelegation, V1PathIsWhereTheSliceControllersAre) {
  auto path = cgroupPathIn(kV1, kHybridService);
  ASSERT_TRUE(path) << path.error().message();
  EXPECT_EQ(*path, "system.slice/wickd.service");
}

TEST(CgroupDelegation, V1ControllersInDifferentCgroupsAreRefused) {
  auto path = cgroupPathIn(kV1, "12:pids:/a\n11:freezer:/a\n8:memory:/b\n4:cpu,cpuacct:/a\n");
  ASSERT_FALSE(path);
  EXPECT_NE(path.error().message().find("different cgroups"), std::string::npos);
}

TEST(CgroupDelegation, V1MissingControllerIsNamed) {
  auto path = cgroupPathIn(kV1, "0::/x\n");
  ASSERT_FALSE(path);
  EXPECT_NE(path.error().message().find("memory"), std::string::npos);
}

TEST(CgroupDelegation, V2PathIsTheUnifiedLine) {
  const auto v2 = CgroupHierarchy::v2At("/sys/fs/cgroup");
  auto path = cgroupPathIn(v2, "0::/system.slice/wickd.service\n");
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, "system.slice/wickd.service");
  auto root = cgroupPathIn(v2, "0::/\n");
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "");
  EXPECT_FALSE(cgroupPathIn(v2, "4:cpu:/x\n"));
}

class CgroupDelegationV2Layout : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-cgroup2-deleg-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    fs::create_directories(root_ / "system.slice/wickd.service");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(CgroupDelegationV2Layout, TheDaemonMovesToALeafAndSandboxesGoBesideIt) {
  const auto v2 = CgroupHierarchy::v2At(root_, true);
  auto parent = placeSandboxesUnderOwnCgroup(v2, 4242, "0::/system.slice/wickd.service\n", "wick");
  ASSERT_TRUE(parent) << parent.error().message();
  EXPECT_EQ(*parent, "system.slice/wickd.service/wick");
  auto procs = readFile(root_ / "system.slice/wickd.service/daemon/cgroup.procs");
  ASSERT_TRUE(procs);
  EXPECT_EQ(*procs, "4242");
}

TEST_F(CgroupDelegationV2Layout, AtTheRootNothingMoves) {
  const auto v2 = CgroupHierarchy::v2At(root_, true);
  auto parent = placeSandboxesUnderOwnCgroup(v2, 4242, "0::/\n", "wick");
  ASSERT_TRUE(parent);
  EXPECT_EQ(*parent, "wick");
  EXPECT_FALSE(fs::exists(root_ / "daemon"));
}

TEST(CgroupDelegation, OnV1NothingMoves) {
  auto parent = placeSandboxesUnderOwnCgroup(kV1, 4242, kHybridService, "/wick/");
  ASSERT_TRUE(parent);
  EXPECT_EQ(*parent, "system.slice/wickd.service/wick");
}

}  // namespace
}  // namespace wick::sandbox
