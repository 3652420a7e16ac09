// The cgroup v2 code path against a temporary directory laid out like a cgroup2
// hierarchy: the exact files and values a slice writes. (This machine's
// controllers are on v1, so the real-kernel tests exercise the v1 path.)
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/unique_fd.h"
#include "sandbox/cgroup.h"

namespace wick::sandbox {
namespace {

namespace fs = std::filesystem;

class CgroupV2Layout : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-cgroup2-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    put(root_ / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put(root_ / "cgroup.subtree_control", "");
    hierarchy_ = std::make_shared<const CgroupHierarchy>(CgroupHierarchy::v2At(root_, true));
  }
  void TearDown() override { fs::remove_all(root_); }

  static void put(const fs::path& path, const std::string& content) {
    std::ofstream(path) << content;
  }
  static std::string get(const fs::path& path) {
    auto content = readFile(path);
    return content ? *content : "<missing " + path.string() + ">";
  }
  // The kernel removes a cgroup's interface files with it; a plain directory needs help.
  static void removeInterfaceFiles(const fs::path& dir) {
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) fs::remove(entry.path());
  }

  fs::path root_;
  std::shared_ptr<const CgroupHierarchy> hierarchy_;
};

TEST_F(CgroupV2Layout, CreateWritesLimitsAndDelegatesControllers) {
  Resources resources;
  resources.memory_mb = 256;
  resources.pids_max = 77;
  auto slice = CgroupSlice::create(hierarchy_, "wick", "wick-a1", resources, 2);
  ASSERT_TRUE(slice.ok()) << slice.error().message();
  const fs::path dir = root_ / "wick" / "wick-a1";
  EXPECT_EQ(get(root_ / "cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(get(root_ / "wick" / "cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(get(dir / "memory.max"), "268435456");
  EXPECT_EQ(get(dir / "memory.swap.max"), "0");
  EXPECT_EQ(get(dir / "cpu.max"), "14471 100000");  // 256/1769 of one CPU
  EXPECT_EQ(get(dir / "pids.max"), "77");
  EXPECT_EQ((*slice)->openProcsFds()->size(), 0u);  // born inside: CLONE_INTO_CGROUP
  EXPECT_TRUE((*slice)->openDirFd().ok());

  removeInterfaceFiles(dir);
  EXPECT_TRUE((*slice)->remove().ok());
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE((*slice)->remove().ok()) << "remove twice";
}

TEST_F(CgroupV2Layout, LiveResourceUpdateRewritesLimits) {
  auto slice = CgroupSlice::create(hierarchy_, "wick", "wick-b2", Resources{}, 2);
  ASSERT_TRUE(slice.ok()) << slice.error().message();
  Resources bigger;
  bigger.memory_mb = 3538;
  bigger.pids_max = 2048;
  ASSERT_TRUE((*slice)->setResources(bigger, 2).ok());
  const fs::path dir = root_ / "wick" / "wick-b2";
  EXPECT_EQ(get(dir / "memory.max"), std::to_string(3538ull << 20));
  EXPECT_EQ(get(dir / "cpu.max"), "200000 100000");  // 2 CPUs: the host's all
  EXPECT_EQ(get(dir / "pids.max"), "2048");
  removeInterfaceFiles(dir);
}

TEST_F(CgroupV2Layout, OperatorTuningWritesPeriodSwapAndIoWeightLive) {
  auto slice = CgroupSlice::create(hierarchy_, "wick", "wick-t1", Resources{}, 2);
  ASSERT_TRUE(slice.ok()) << slice.error().message();
  const fs::path dir = root_ / "wick" / "wick-t1";
  EXPECT_EQ(get(dir / "cpu.max"), "7236 100000");  // 128/1769 of 100 ms
  EXPECT_FALSE(fs::exists(dir / "io.weight")) << "no weight asked: the kernel's default";
  Resources tuned;
  tuned.cpu_period_us = 10'000;
  tuned.mb_per_vcpu = 1024;
  tuned.pids_max = 64;
  tuned.swap_mb = 256;
  tuned.io_weight = 500;
  ASSERT_TRUE((*slice)->setResources(tuned, 2).ok());
  EXPECT_EQ(get(dir / "cpu.max"), "1250 10000");  // 128/1024 of a 10 ms period
  EXPECT_EQ(get(dir / "pids.max"), "64");
  EXPECT_EQ(get(dir / "memory.swap.max"), std::to_string(256ull << 20));
  EXPECT_EQ(get(dir / "io.weight"), "default 500");
  EXPECT_EQ(get(dir / "memory.max"), std::to_string(128ull << 20));

  // What the operator sees: the limits as the files hold them, and throttling.
  put(dir / "memory.current", "1048576\n");
  put(dir / "memory.peak", "2097152\n");
  put(dir / "memory.events", "oom_kill 0\n");
  put(dir / "pids.current", "2\n");
  put(dir / "cpu.stat",
      "usage_usec 900\nuser_usec 600\nsystem_usec 300\nnr_periods 40\nnr_throttled 7\n"
      "throttled_usec 2500\n");
  put(dir / "io.weight", "default 500\n");
  auto inspection = (*slice)->inspect();
  ASSERT_TRUE(inspection.ok()) << inspection.error().message();
  EXPECT_EQ(inspection->memory_max_bytes, 128ull << 20);
  EXPECT_EQ(inspection->swap_max_bytes, 256ull << 20);
  EXPECT_EQ(inspection->cpu_quota_us, 1250u);
  EXPECT_EQ(inspection->cpu_period_us, 10'000u);
  EXPECT_EQ(inspection->pids_max, 64u);
  EXPECT_EQ(inspection->io_weight, 500u);
  EXPECT_EQ(inspection->cpu_periods, 40u);
  EXPECT_EQ(inspection->cpu_throttled_periods, 7u);
  EXPECT_EQ(inspection->cpu_throttled_ns, 2'500'000u);
  EXPECT_EQ(inspection->stats.cpu_usage_ns, 900'000u);
  EXPECT_EQ(inspection->stats.pids_current, 2u);

  // "max" is no limit.
  put(dir / "cpu.max", "max 100000\n");
  put(dir / "pids.max", "max\n");
  put(dir / "memory.max", "max\n");
  inspection = (*slice)->inspect();
  ASSERT_TRUE(inspection.ok()) << inspection.error().message();
  EXPECT_EQ(inspection->cpu_quota_us, 0u);
  EXPECT_EQ(inspection->cpu_period_us, 100'000u);
  EXPECT_EQ(inspection->pids_max, 0u);
  EXPECT_EQ(inspection->memory_max_bytes, 0u);
  removeInterfaceFiles(dir);
}

TEST_F(CgroupV2Layout, FreezeThawKillAndStatsUseV2Files) {
  auto slice = CgroupSlice::create(hierarchy_, "wick", "wick-c3", Resources{}, 2);
  ASSERT_TRUE(slice.ok()) << slice.error().message();
  const fs::path dir = root_ / "wick" / "wick-c3";
  put(dir / "cgroup.events", "populated 1\nfrozen 1\n");
  ASSERT_TRUE((*slice)->freeze().ok());
  EXPECT_EQ(get(dir / "cgroup.freeze"), "1");
  ASSERT_TRUE((*slice)->thaw().ok());
  EXPECT_EQ(get(dir / "cgroup.freeze"), "0");

  put(dir / "memory.current", "1048576\n");
  put(dir / "memory.peak", "4194304\n");
  put(dir / "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  put(dir / "memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n");
  put(dir / "pids.current", "3\n");
  auto stats = (*slice)->stats();
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(stats->memory_current_bytes, 1048576u);
  EXPECT_EQ(stats->memory_peak_bytes, 4194304u);
  EXPECT_EQ(stats->cpu_usage_ns, 1'500'000u);
  EXPECT_EQ(stats->oom_kills, 1u);
  EXPECT_EQ(stats->pids_current, 3u);

  put(dir / "cgroup.kill", "");
  put(dir / "cgroup.procs", "");
  ASSERT_TRUE((*slice)->killAll().ok());
  EXPECT_EQ(get(dir / "cgroup.kill"), "1");
  removeInterfaceFiles(dir);
}

TEST_F(CgroupV2Layout, ListFindsOnlyPrefixedSlices) {
  fs::create_directories(root_ / "wick" / "wick-old1");
  fs::create_directories(root_ / "wick" / "other");
  auto names = CgroupSlice::list(*hierarchy_, "wick", "wick-");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"wick-old1"});
}

TEST(CgroupDiscovery, ThisHostIsDiscoveredNotAssumed) {
  auto hierarchy = CgroupHierarchy::discover();
  ASSERT_TRUE(hierarchy.ok()) << hierarchy.error().message();
  struct stat st {};
  bool unified_root = ::stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
  EXPECT_EQ(hierarchy->version(), unified_root ? CgroupVersion::kV2 : CgroupVersion::kV1);
  if (hierarchy->version() == CgroupVersion::kV1) {
    for (const auto& controller : CgroupHierarchy::v1Controllers()) {
      EXPECT_TRUE(hierarchy->v1Mounts().count(controller)) << controller;
    }
  }
}

}  // namespace
}  // namespace wick::sandbox
