// Shared by the sandbox integration tests: a launcher on a test cgroup parent,
// and a helper that runs a command in a sandbox and collects its output.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace wick::sandbox::testing {

inline constexpr const char* kTestCgroupParent = "wick-test";

inline const Launcher& testLauncher() {
  static Launcher* launcher = [] {
    auto opened =
        Launcher::open({.cgroup_parent = kTestCgroupParent, .runtime_dir = "/run/wick-test"});
    if (!opened) {
      std::fprintf(stderr, "cannot open launcher: %s\n", opened.error().message().c_str());
      std::abort();
    }
    return new Launcher(std::move(*opened));
  }();
  return *launcher;
}

// Removes the test cgroup parent once every test is done.
class RemoveTestCgroupParent : public ::testing::Environment {
 public:
  void TearDown() override { testLauncher().removeParentIfEmpty(); }
};
inline ::testing::Environment* const kRemoveTestCgroupParent =
    ::testing::AddGlobalTestEnvironment(new RemoveTestCgroupParent);

// The host's programs, bound read-only, as `wick run` does with no layer.
inline SandboxSpec hostSpec(std::vector<std::string> argv) {
  SandboxSpec spec;
  for (const char* dir : {"/usr", "/bin", "/lib", "/lib64", "/etc"})
    if (::access(dir, F_OK) == 0) spec.binds.push_back({dir, dir, false});
  spec.binds.push_back({WICK_TEST_BIN_DIR, "/probe", false});
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.argv = std::move(argv);
  return spec;
}

inline SandboxSpec shellSpec(const std::string& script) {
  return hostSpec({"/bin/sh", "-c", script});
}

struct RunResult {
  ExitStatus status;
  std::string out;  // stdout and stderr together
  CgroupStats stats;
};

// Create, wait (bounded), read stats, destroy.
inline RunResult runToEnd(SandboxSpec spec, int timeout_ms = 20000,
                          const Launcher& launcher = testLauncher()) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  spec.stdout_fd = pipe_fds[1];
  spec.stderr_fd = pipe_fds[1];
  spec.stdin_fd = -1;
  RunResult result;
  auto box = launcher.create(spec);
  ::close(pipe_fds[1]);
  if (!box) {
    ::close(pipe_fds[0]);
    ADD_FAILURE() << box.error().message();
    return result;
  }
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0)
    result.out.append(buffer, n);
  ::close(pipe_fds[0]);
  auto status = box->wait(std::chrono::milliseconds(timeout_ms));
  EXPECT_TRUE(status.ok() && status->has_value()) << "sandbox did not exit in time";
  if (status.ok() && status->has_value()) result.status = **status;
  auto stats = box->stats();
  if (stats) result.stats = *stats;
  auto destroyed = box->destroy();
  EXPECT_TRUE(destroyed.ok()) << destroyed.error().message();
  return result;
}

}  // namespace wick::sandbox::testing
