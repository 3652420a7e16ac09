// cgroup limits and stats of a live sandbox, on the host's real hierarchy.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/sandbox/sandbox_test_support.h"

namespace wick::sandbox {
namespace {

using testing::hostSpec;
using testing::runToEnd;

TEST(Resources, AllocationBeyondTheLimitIsOomKilledAndReported) {
  SandboxSpec spec = hostSpec({"/probe/sandbox_probe", "alloc", "400"});
  spec.resources.memory_mb = 128;
  auto result = runToEnd(spec);
  EXPECT_TRUE(result.status.signaled) << result.out;
  EXPECT_EQ(result.status.signal, SIGKILL);
  EXPECT_GE(result.stats.oom_kills, 1u);
  EXPECT_LE(result.stats.memory_peak_bytes, 128ull << 20);
  EXPECT_GE(result.stats.memory_peak_bytes, 100ull << 20);
}

TEST(Resources, AllocationWithinTheLimitSucceeds) {
  SandboxSpec spec = hostSpec({"/probe/sandbox_probe", "alloc", "64"});
  spec.resources.memory_mb = 128;
  auto result = runToEnd(spec);
  EXPECT_EQ(result.status.code, 0) << result.out;
  EXPECT_EQ(result.stats.oom_kills, 0u);
  EXPECT_GE(result.stats.memory_peak_bytes, 64ull << 20);
}

double cpuShareOfBusyLoop(uint64_t memory_mb, int threads, double seconds) {
  SandboxSpec spec =
      hostSpec({"/probe/sandbox_probe", "spin", std::to_string(seconds), std::to_string(threads)});
  spec.resources.memory_mb = memory_mb;
  auto result = runToEnd(spec);
  EXPECT_EQ(result.status.code, 0) << result.out;
  return static_cast<double>(result.stats.cpu_usage_ns) / 1e9 / seconds;
}

TEST(Resources, CpuAt128MbIsAboutOneFourteenthOfACpu) {
  double share = cpuShareOfBusyLoop(128, 1, 1.0);
  EXPECT_GT(share, 128.0 / 1769 * 0.5);
  EXPECT_LT(share, 128.0 / 1769 * 1.6);
}

TEST(Resources, CpuAt3538MbIsAboutTwoCpusBoundedByTheHost) {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  double expected = std::min(2.0, static_cast<double>(cores));
  // What the machine gives a sandbox at the largest memory (quota: every core)
  // right now, so that other work on the host does not read as our throttling.
  const double available = cpuShareOfBusyLoop(10240, 4, 1.0);
  double share = cpuShareOfBusyLoop(3538, 4, 1.0);
  EXPECT_GT(share, std::min(expected, available) * 0.6) << "available " << available;
  EXPECT_LT(share, expected * 1.1);
}

TEST(Resources, ForkBombStopsAtPidsMaxAndTheHostIsFine) {
  SandboxSpec spec = hostSpec({"/probe/sandbox_probe", "forkbomb"});
  spec.resources.pids_max = 50;
  spec.rlimits = {};  // leave RLIMIT_NPROC aside: pids.max is what is tested
  auto result = runToEnd(spec);
  EXPECT_NE(result.out.find("then EAGAIN"), std::string::npos) << result.out;
  int forked = std::atoi(result.out.substr(result.out.find("forked ") + 7).c_str());
  EXPECT_LT(forked, 50) << result.out;
  EXPECT_GE(forked, 40) << result.out;
  // The host can still fork.
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ASSERT_GT(pid, 0);
  ::waitpid(pid, nullptr, 0);
}

TEST(Resources, FreezeStopsProgressAndThawResumesIt) {
  auto box = testing::testLauncher().create(hostSpec({"/probe/sandbox_probe", "spin", "30", "1"}));
  ASSERT_TRUE(box.ok()) << box.error().message();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(box->freeze().ok());
  uint64_t frozen_at = box->stats()->cpu_usage_ns;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LT(box->stats()->cpu_usage_ns - frozen_at, 2'000'000u) << "ran while frozen";
  ASSERT_TRUE(box->thaw().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GT(box->stats()->cpu_usage_ns - frozen_at, 5'000'000u) << "did not resume";
  // A frozen sandbox can still be destroyed.
  ASSERT_TRUE(box->freeze().ok());
  EXPECT_TRUE(box->destroy().ok());
}

TEST(Resources, LiveUpdateChangesTheLimit) {
  auto box = testing::testLauncher().create(hostSpec({"/probe/sandbox_probe", "spin", "30", "2"}));
  ASSERT_TRUE(box.ok()) << box.error().message();
  Resources bigger;
  bigger.memory_mb = 3538;
  ASSERT_TRUE(box->updateResources(bigger).ok());
  uint64_t before = box->stats()->cpu_usage_ns;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double share = static_cast<double>(box->stats()->cpu_usage_ns - before) / 0.5e9;
  // 128 MB allowed 0.07 of a CPU; the new quota allows two: well above the old
  // limit even when other work on the host takes a core.
  EXPECT_GT(share, 0.3) << "the new quota did not reach the running sandbox";
  EXPECT_TRUE(box->destroy().ok());
}

}  // namespace
}  // namespace wick::sandbox
