// Each isolation property of a sandbox, proved against the real kernel (root).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/sandbox/sandbox_test_support.h"

namespace wick::sandbox {
namespace {

using testing::hostSpec;
using testing::runToEnd;
using testing::shellSpec;

TEST(Isolation, RunsAsLambdaUserWithNoCapabilitiesAndNoNewPrivs) {
  auto result = runToEnd(
      shellSpec("id -u; id -g; grep -E '^(Cap[A-Za-z]+|NoNewPrivs|Seccomp):' /proc/self/status"));
  EXPECT_EQ(result.status.code, 0) << result.out;
  EXPECT_NE(result.out.find("993\n990\n"), std::string::npos) << result.out;
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    EXPECT_NE(result.out.find(std::string(set) + ":\t0000000000000000"), std::string::npos)
        << set << " in " << result.out;
  EXPECT_NE(result.out.find("NoNewPrivs:\t1"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Seccomp:\t2"), std::string::npos) << result.out;
}

TEST(Isolation, IsPidOneAndSeesNoHostProcess) {
  auto result = runToEnd(shellSpec("echo pid=$$; ls /proc | grep -E '^[0-9]+$' | wc -l"));
  EXPECT_NE(result.out.find("pid=1\n"), std::string::npos) << result.out;
  // sh, ls, grep and wc at most: nothing of the host.
  int count = std::atoi(result.out.substr(result.out.find('\n') + 1).c_str());
  EXPECT_GE(count, 1);
  EXPECT_LE(count, 4) << result.out;
}

TEST(Isolation, HasItsOwnHostname) {
  SandboxSpec spec = shellSpec("cat /proc/sys/kernel/hostname");
  spec.hostname = "fn-blue";
  EXPECT_EQ(runToEnd(spec).out, "fn-blue\n");
}

TEST(Isolation, OnlyLoopbackExistsAndIsUp) {
  auto result = runToEnd(shellSpec("ip -o link | cut -d' ' -f2,3; grep -c . /proc/net/route"));
  EXPECT_EQ(result.out, "lo: <LOOPBACK,UP,LOWER_UP>\n1\n");  // one line: the header
}

TEST(Isolation, TmpIsBoundedByItsExactSize) {
  SandboxSpec spec = shellSpec(
      "dd if=/dev/zero of=/tmp/fill bs=64k count=16 2>&1 | tail -n 1; "
      "dd if=/dev/zero of=/tmp/more bs=64k count=1 2>&1 | head -n 1");
  spec.tmp_size_bytes = 1 << 20;
  auto result = runToEnd(spec);
  EXPECT_NE(result.out.find("No space left on device"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("1048576 bytes"), std::string::npos) << result.out;
}

TEST(Isolation, EverythingButTmpIsReadOnly) {
  auto result = runToEnd(
      shellSpec("for p in /x /etc/x /usr/x /proc/sys/kernel/hostname /dev/x; do "
                "  (echo 1 > $p) 2>&1 | grep -q 'Read-only file system' && echo ro:$p; done; "
                "echo 1 > /tmp/ok && echo rw:/tmp; echo 1 > /dev/shm/ok && echo rw:/dev/shm"));
  for (const char* path : {"/x", "/etc/x", "/usr/x", "/proc/sys/kernel/hostname", "/dev/x"})
    EXPECT_NE(result.out.find(std::string("ro:") + path + "\n"), std::string::npos)
        << path << " in " << result.out;
  EXPECT_NE(result.out.find("rw:/tmp\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("rw:/dev/shm\n"), std::string::npos) << result.out;
}

TEST(Isolation, KernelSensitiveProcPathsAreMasked) {
  auto result = runToEnd(
      shellSpec("wc -c < /proc/keys; wc -c < /proc/timer_list; ls /proc/acpi | wc -l; "
                "wc -c < /proc/interrupts; echo h > /proc/sysrq-trigger 2>&1; echo rc=$?"));
  EXPECT_TRUE(result.out.starts_with("0\n0\n0\n0\n")) << result.out;
  // The host's is not empty: the zero is the mask's doing.
  std::ifstream host("/proc/interrupts");
  std::string first_line;
  EXPECT_TRUE(std::getline(host, first_line) && !first_line.empty());
}

TEST(Isolation, MountinfoShowsNoHostPathOfTheLayers) {
  namespace fs = std::filesystem;
  char lower[] = "/tmp/wick-hostpath-lower-XXXXXX";
  char upper[] = "/tmp/wick-hostpath-upper-XXXXXX";
  ASSERT_NE(::mkdtemp(lower), nullptr);
  ASSERT_NE(::mkdtemp(upper), nullptr);
  ::chmod(lower, 0755);
  ::chmod(upper, 0755);
  // A merged-/usr root whose /usr is the host's, bound.
  fs::create_directory(fs::path(lower) / "usr");
  for (const char* dir : {"bin", "lib", "lib64"})
    fs::create_directory_symlink(std::string("usr/") + dir, fs::path(lower) / dir);
  SandboxSpec spec = shellSpec("cat /proc/self/mountinfo");
  spec.binds = {{"/usr", "/usr", false}};
  spec.layers = {lower, upper};
  auto result = runToEnd(spec);
  EXPECT_NE(result.out.find(" / / "), std::string::npos) << result.out;  // it ran
  EXPECT_EQ(result.out.find("wick-hostpath"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("/run/wick"), std::string::npos) << result.out;
  fs::remove_all(lower);
  fs::remove_all(upper);
}

TEST(Isolation, DeniedSystemCallsFailWithEperm) {
  auto result = runToEnd(hostSpec({"/probe/sandbox_probe", "denied"}));
  for (const char* call :
       {"mount", "umount2", "unshare_user", "unshare_net", "keyctl", "bpf", "perf_event_open",
        "io_uring_setup", "setns", "chroot", "personality_norandom", "ptrace_attach"})
    EXPECT_NE(result.out.find(std::string(call) + ": EPERM\n"), std::string::npos)
        << call << " in:\n"
        << result.out;
  EXPECT_NE(result.out.find("clone3: ENOSYS\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("fork: ok\n"), std::string::npos) << result.out;
  // The query of the current personality is harmless (Docker allows it).
  EXPECT_NE(result.out.find("personality_query: ok\n"), std::string::npos) << result.out;
}

TEST(Isolation, TerminalInjectionIoctlsAreRefusedBySeccomp) {
  // stdin is /dev/null: without the filter the kernel would answer ENOTTY.
  auto result = runToEnd(hostSpec({"/probe/sandbox_probe", "tty"}));
  // EIO: what a kernel with dev.tty.legacy_tiocsti=0 answers.
  for (const char* call : {"tiocsti_stdin", "tiocsti_high_bits", "tioclinux"})
    EXPECT_NE(result.out.find(std::string(call) + ": EIO\n"), std::string::npos) << call << " in:\n"
                                                                                 << result.out;
}

TEST(Isolation, ForeignAbiSyscallsKillTheProcess) {
  auto result = runToEnd(hostSpec({"/probe/sandbox_probe", "x32"}));
  EXPECT_TRUE(result.status.signaled) << result.out;
  EXPECT_EQ(result.status.signal, SIGSYS) << result.out;
}

TEST(Isolation, NoHostFdLeaksInButPassedFdsArrive) {
  int leaky = ::open("/etc/hostname", O_RDONLY);  // deliberately not close-on-exec
  ASSERT_GE(leaky, 0);
  int passed = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  SandboxSpec spec = hostSpec({"/probe/sandbox_probe", "fds"});
  spec.passed_fds = {{passed, 7}};
  auto result = runToEnd(spec);
  EXPECT_EQ(result.out, "fds: 0 1 2 7\n");
  ::close(leaky);
  ::close(passed);
}

TEST(Isolation, EnvironmentIsExactlyTheSpecs) {
  ::setenv("WICK_HOST_SECRET", "leak", 1);
  SandboxSpec spec = shellSpec("env | sort");
  spec.env = {"PATH=/usr/bin:/bin", "A=1"};
  auto result = runToEnd(spec);
  EXPECT_EQ(result.out, "A=1\nPATH=/usr/bin:/bin\nPWD=/\n");
}

TEST(Isolation, SymlinkedMountPointInALayerCannotReachTheHost) {
  // A hostile layer whose /tmp points at a host directory: the tmpfs must land
  // inside the sandbox, never on the host path.
  namespace fs = std::filesystem;
  char layer_pattern[] = "/tmp/wick-layer-XXXXXX";
  char target_pattern[] = "/tmp/wick-target-XXXXXX";
  ASSERT_NE(::mkdtemp(layer_pattern), nullptr);
  ASSERT_NE(::mkdtemp(target_pattern), nullptr);
  fs::create_symlink(target_pattern, fs::path(layer_pattern) / "tmp");
  fs::create_directories(fs::path(layer_pattern) / "proc");
  fs::create_directories(fs::path(layer_pattern) / "dev");
  SandboxSpec spec = shellSpec("echo inside > /tmp/marker && cat /tmp/marker");
  spec.layers = {layer_pattern};
  auto result = runToEnd(spec);
  EXPECT_EQ(result.out, "inside\n");
  EXPECT_TRUE(fs::is_empty(target_pattern)) << "the sandbox wrote into the host directory";
  fs::remove_all(layer_pattern);
  fs::remove_all(target_pattern);
}

TEST(Isolation, LayersStackWithLaterLayersWinning) {
  namespace fs = std::filesystem;
  char lower[] = "/tmp/wick-lower-XXXXXX";
  char upper[] = "/tmp/wick-upper-XXXXXX";
  ASSERT_NE(::mkdtemp(lower), nullptr);
  ASSERT_NE(::mkdtemp(upper), nullptr);
  std::ofstream(fs::path(lower) / "a") << "lower";
  std::ofstream(fs::path(lower) / "b") << "lower";
  std::ofstream(fs::path(upper) / "a") << "upper";
  ::chmod(lower, 0755);
  ::chmod(upper, 0755);
  SandboxSpec spec = shellSpec("cat /a /b; echo; (echo x > /a) 2>&1 | grep -c Read-only");
  spec.layers = {lower, upper};
  auto result = runToEnd(spec);
  EXPECT_EQ(result.out, "upperlower\n1\n");
  fs::remove_all(lower);
  fs::remove_all(upper);
}

}  // namespace
}  // namespace wick::sandbox
