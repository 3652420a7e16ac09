// create -> wait/kill -> destroy, and that nothing is left behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "common/unique_fd.h"
#include "sandbox/cgroup.h"
#include "tests/sandbox/sandbox_test_support.h"

namespace wick::sandbox {
namespace {

namespace fs = std::filesystem;
using testing::hostSpec;
using testing::kTestCgroupParent;
using testing::shellSpec;
using testing::testLauncher;

std::vector<std::string> sliceDirs(const std::string& id) {
  auto hierarchy = CgroupHierarchy::discover();
  std::vector<std::string> roots = hierarchy->version() == CgroupVersion::kV2
                                       ? std::vector<std::string>{hierarchy->v2Root()}
                                       : hierarchy->v1Hierarchies();
  std::vector<std::string> dirs;
  for (const auto& root : roots)
    dirs.push_back(root + "/" + kTestCgroupParent + "/wick-" + id);
  return dirs;
}

std::vector<std::string> leftoverSlices() {
  auto hierarchy = CgroupHierarchy::discover();
  auto names = CgroupSlice::list(*hierarchy, kTestCgroupParent, "wick-");
  return names ? *names : std::vector<std::string>{"<list failed>"};
}

bool hostMountsMention(const std::string& text) {
  auto mounts = readFile("/proc/self/mountinfo");
  return mounts && mounts->find(text) != std::string::npos;
}

TEST(Lifecycle, DestroyLeavesNoProcessNoCgroupNoMount) {
  auto box = testLauncher().create(shellSpec("sleep 60 & sleep 60"));
  ASSERT_TRUE(box.ok()) << box.error().message();
  const pid_t pid = box->pid();
  const auto dirs = sliceDirs(box->id());
  for (const auto& dir : dirs)
    EXPECT_TRUE(fs::exists(dir)) << dir;
  EXPECT_EQ(::kill(pid, 0), 0);
  ASSERT_TRUE(box->destroy().ok());
  EXPECT_TRUE(box->destroy().ok()) << "destroy twice";
  for (const auto& dir : dirs)
    EXPECT_FALSE(fs::exists(dir)) << dir;
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_FALSE(hostMountsMention("/run/wick-test"));
}

TEST(Lifecycle, WaitReportsExitCodeOrSignal) {
  auto exited = testing::runToEnd(shellSpec("exit 7"));
  EXPECT_FALSE(exited.status.signaled);
  EXPECT_EQ(exited.status.code, 7);
  EXPECT_EQ(exited.status.shellCode(), 7);

  auto box = testLauncher().create(shellSpec("sleep 60"));
  ASSERT_TRUE(box.ok());
  auto early = box->wait(std::chrono::milliseconds(50));
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value()) << "wait returned before the timeout";
  ASSERT_TRUE(box->kill(SIGKILL).ok());
  auto status = box->wait();
  ASSERT_TRUE(status.ok() && status->has_value());
  EXPECT_TRUE((*status)->signaled);
  EXPECT_EQ((*status)->shellCode(), 128 + SIGKILL);
}

TEST(Lifecycle, CreateStepsAreTimed) {
  auto box = testLauncher().create(shellSpec("true"));
  ASSERT_TRUE(box.ok());
  std::vector<std::string> names;
  uint64_t sum = 0;
  for (const auto& step : box->timings().steps) {
    names.emplace_back(step.name);
    sum += step.ns;
  }
  for (const char* expected : {"plan", "cgroup", "clone", "mounts", "pivot_root", "exec"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  EXPECT_GT(box->timings().total_ns, 0u);
  EXPECT_LE(sum, box->timings().total_ns + 1000);
}

TEST(Lifecycle, SpecErrorsNameTheFailingStep) {
  SandboxSpec missing_layer = shellSpec("true");
  missing_layer.layers = {"/nonexistent/layer"};
  auto created = testLauncher().create(missing_layer);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message().find("layer /nonexistent/layer: No such file or directory"),
            std::string::npos)
      << created.error().message();

  auto bad_exec = testLauncher().create(hostSpec({"/no/such/program"}));
  ASSERT_FALSE(bad_exec.ok());
  EXPECT_NE(bad_exec.error().message().find("exec /no/such/program: No such file or directory"),
            std::string::npos)
      << bad_exec.error().message();

  SandboxSpec bad_cwd = shellSpec("true");
  bad_cwd.cwd = "/nope";
  auto cwd = testLauncher().create(bad_cwd);
  ASSERT_FALSE(cwd.ok());
  EXPECT_NE(cwd.error().message().find("cwd /nope: No such file or directory"), std::string::npos)
      << cwd.error().message();

  SandboxSpec bad_bind = shellSpec("true");
  bad_bind.binds.push_back({"/etc/hostname", "relative/path", false});
  auto bind = testLauncher().create(bad_bind);
  ASSERT_FALSE(bind.ok());
  EXPECT_NE(bind.error().message().find("not an absolute path"), std::string::npos);
  // Failed creates leave nothing either.
  EXPECT_TRUE(leftoverSlices().empty());
}

TEST(Lifecycle, FiftyConcurrentSandboxesLeaveNothingBehind) {
  std::vector<std::future<std::string>> results;
  for (int i = 0; i < 50; ++i)
    results.push_back(std::async(std::launch::async, [i] {
      auto result = testing::runToEnd(shellSpec("echo " + std::to_string(i)));
      return result.out;
    }));
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(results[i].get(), std::to_string(i) + "\n");
  EXPECT_TRUE(leftoverSlices().empty());
  EXPECT_FALSE(hostMountsMention("/run/wick-test"));
}

TEST(Lifecycle, LeftoversOfACrashedRunAreReclaimed) {
  // What a crashed daemon leaves: a live process in a wick-* slice.
  SandboxSpec spec = shellSpec("sleep 60");
  spec.id = "crashed-run";
  auto box = testLauncher().create(spec);
  ASSERT_TRUE(box.ok()) << box.error().message();
  const pid_t orphan = box->pid();
  // Forget the sandbox without destroying it, as a crash would (held by a
  // static, so LeakSanitizer does not take the forgetting for a leak).
  static Sandbox* volatile forgotten = nullptr;
  forgotten = new Sandbox(std::move(*box));
  (void)forgotten;
  ASSERT_EQ(leftoverSlices(), std::vector<std::string>{"wick-crashed-run"});

  auto reclaimed = testLauncher().reclaimLeftovers();
  ASSERT_TRUE(reclaimed.ok()) << reclaimed.error().message();
  EXPECT_EQ(*reclaimed, 1);
  EXPECT_TRUE(leftoverSlices().empty());
  // The orphan is dead (a zombie of ours until reaped).
  siginfo_t info{};
  EXPECT_EQ(::waitid(P_PID, orphan, &info, WEXITED), 0);
  EXPECT_EQ(info.si_status, SIGKILL);
}

}  // namespace
}  // namespace wick::sandbox

namespace wick::sandbox {
namespace {

// The agent's way in: a sealed in-memory copy of a static binary, opened on
// the host and exec'd through its fd into a root that does not contain it.
TEST(Lifecycle, ExecFdRunsABinaryTheRootDoesNotHave) {
  auto binary = readFile("/bin/busybox");
  ASSERT_TRUE(binary.ok()) << "busybox-static is installed by scripts/setup";
  UniqueFd sealed(::memfd_create("busybox", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_TRUE(sealed.valid());
  ASSERT_TRUE(writeAll(sealed.get(), *binary).ok());
  ASSERT_EQ(
      ::fcntl(sealed.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
      0);

  SandboxSpec spec;  // no layer, no bind: an empty root
  spec.argv = {"busybox", "echo", "hello from an empty root"};
  spec.exec_fd = sealed.get();
  auto result = testing::runToEnd(spec);
  EXPECT_EQ(result.status.code, 0);
  EXPECT_EQ(result.out, "hello from an empty root\n");
}

}  // namespace
}  // namespace wick::sandbox
