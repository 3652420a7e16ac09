// The seccomp profile, syscall by syscall, in real sandboxes: every syscall the
// default profile allows reaches the kernel, every other one is refused, and
// the families and arguments it filters get the answers it names. Plus the
// profile as data: a bad file is refused with the reason, an operator's file
// replaces the default.
#include "sandbox/seccomp_profile.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sandbox/seccomp/profile.pb.h"
#include "tests/sandbox/sandbox_test_support.h"

namespace wick::sandbox {
namespace {

using testing::hostSpec;
using testing::runToEnd;

constexpr long kLastSyscall = 511;
// Errnos no syscall answers to arguments of -1: a refusal by the filter's
// default shows as the first, by its "newer than the profile" rule as the second.
constexpr const char* kDefaultMarker = "EHWPOISON";
constexpr const char* kUnknownMarker = "ENOTRECOVERABLE";
// uretprobe (335) and uprobe (336) on x86_64: the kernel lets them past every
// seccomp filter (they only work from a uprobe trampoline; since 6.11/6.17).
const std::set<long> kNeverFiltered = {335, 336};

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char pattern[] = "/tmp/wick-seccomp-XXXXXX";
    int fd = ::mkstemp(pattern);
    ::close(fd);
    path_ = pattern;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

seccomp::Profile defaultProfile() {
  seccomp::Profile profile;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      std::string(defaultSeccompProfileText()), &profile));
  return profile;
}

Launcher launcherWith(const std::string& profile_path) {
  auto launcher = Launcher::open({.cgroup_parent = testing::kTestCgroupParent,
                                  .runtime_dir = "/run/wick-test",
                                  .seccomp_profile = profile_path});
  if (!launcher) {
    ADD_FAILURE() << launcher.error().message();
    std::abort();
  }
  return std::move(*launcher);
}

// "NR ANSWER" lines of `sandbox_probe syscalls` -> answer by number.
std::map<long, std::string> sweep(const Launcher& launcher) {
  auto result =
      runToEnd(hostSpec({"/probe/sandbox_probe", "syscalls", std::to_string(kLastSyscall)}), 60000,
               launcher);
  std::map<long, std::string> answers;
  std::istringstream lines(result.out);
  long nr;
  std::string answer;
  while (lines >> nr >> answer)
    answers[nr] = answer;
  EXPECT_EQ(answers.size(), static_cast<size_t>(kLastSyscall + 1)) << result.out;
  return answers;
}

// What the profile says of each syscall number.
struct Expectations {
  std::set<long> allowed;               // unconditionally
  std::set<long> conditional;           // depends on arguments: tested on their own
  std::map<long, std::string> refused;  // unconditionally, with this errno
  long highest_named = -1;
};

Expectations readProfile(const seccomp::Profile& profile) {
  Expectations expected;
  for (const auto& rule : profile.rule())
    for (const auto& name : rule.names()) {
      long nr = seccomp_syscall_resolve_name(name.c_str());
      EXPECT_NE(nr, __NR_SCMP_ERROR) << name;
      if (nr < 0) continue;
      expected.highest_named = std::max(expected.highest_named, nr);
      if (!rule.args().empty())
        expected.conditional.insert(nr);
      else if (rule.action() == seccomp::ALLOW)
        expected.allowed.insert(nr);
      else
        expected.refused[nr] = rule.errno_name();
    }
  return expected;
}

bool knownToLibseccomp(long nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(nr));
  std::free(name);
  return name != nullptr;
}

TEST(SeccompProfile, EverySyscallIsAllowedOrRefusedAsTheDefaultProfileSays) {
  seccomp::Profile marked = defaultProfile();
  marked.set_default_errno(kDefaultMarker);
  marked.set_unknown_syscall_errno(kUnknownMarker);
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(marked, &text));
  TempFile file(text);
  const Expectations expected = readProfile(marked);
  ASSERT_GT(expected.allowed.size(), 200u);

  auto answers = sweep(launcherWith(file.path()));
  int allowed = 0, refused = 0, unknown = 0;
  for (const auto& [nr, answer] : answers) {
    if (expected.conditional.count(nr) || kNeverFiltered.count(nr)) continue;
    if (expected.allowed.count(nr)) {
      EXPECT_NE(answer, kDefaultMarker) << "syscall " << nr << " is allowed but was refused";
      EXPECT_NE(answer, kUnknownMarker) << "syscall " << nr << " is allowed but was refused";
      ++allowed;
    } else if (expected.refused.count(nr)) {
      EXPECT_EQ(answer, expected.refused.at(nr)) << "syscall " << nr;
    } else if (nr > expected.highest_named || !knownToLibseccomp(nr)) {
      EXPECT_EQ(answer, kUnknownMarker) << "syscall " << nr << " is newer than the profile";
      ++unknown;
    } else {
      EXPECT_EQ(answer, kDefaultMarker) << "syscall " << nr << " is not allowed";
      ++refused;
    }
  }
  std::printf("%d allowed, %d refused, %d newer than the profile\n", allowed, refused, unknown);

  // Independent of how the test reads the profile: a few of each, by number.
  for (long nr : {SYS_read, SYS_write, SYS_openat, SYS_mmap, SYS_futex, SYS_epoll_wait, SYS_execve,
                  SYS_exit_group, SYS_getrandom})
    EXPECT_TRUE(answers[nr] != kDefaultMarker && answers[nr] != kUnknownMarker) << nr;
  for (long nr : {SYS_move_pages, SYS_get_mempolicy, SYS_ptrace, SYS_mount, SYS_io_uring_setup,
                  SYS_modify_ldt, SYS_userfaultfd, SYS_kcmp, SYS_process_vm_readv})
    EXPECT_EQ(answers[nr], kDefaultMarker) << nr;
  EXPECT_EQ(answers[462 /* mseal */], kUnknownMarker);
}

TEST(SeccompProfile, TheDefaultProfileAnswersEpermAndEnosysForNewerSyscalls) {
  const Expectations expected = readProfile(defaultProfile());
  auto answers = sweep(testing::testLauncher());
  for (const auto& [nr, answer] : answers) {
    if (expected.conditional.count(nr) || expected.allowed.count(nr) ||
        expected.refused.count(nr) || kNeverFiltered.count(nr))
      continue;
    bool newer = nr > expected.highest_named || !knownToLibseccomp(nr);
    EXPECT_EQ(answer, newer ? "ENOSYS" : "EPERM") << "syscall " << nr;
  }
  for (long nr : {SYS_move_pages, SYS_get_mempolicy, SYS_ptrace, SYS_mount, SYS_io_uring_setup,
                  SYS_modify_ldt, SYS_userfaultfd, SYS_keyctl, SYS_bpf})
    EXPECT_EQ(answers[nr], "EPERM") << nr;
  for (long nr : {long{SYS_clone3}, 454L /* futex_wake */, 458L /* listmount */, 462L /* mseal */})
    EXPECT_EQ(answers[nr], "ENOSYS") << nr;
  EXPECT_EQ(answers[SYS_read], "EBADF");
}

TEST(SeccompProfile, SocketsOnlyOfUnixInetInet6AndNetlinkRoute) {
  auto result = runToEnd(hostSpec({"/probe/sandbox_probe", "sockets"}));
  EXPECT_EQ(result.out,
            "unix: ok\ninet: ok\ninet6: ok\nnetlink_route: ok\n"
            "netlink_audit: EPROTONOSUPPORT\nvsock: EAFNOSUPPORT\npacket: EAFNOSUPPORT\n"
            "alg: EAFNOSUPPORT\nkey: EAFNOSUPPORT\nvsock_high_bits: EAFNOSUPPORT\n");
}

TEST(SeccompProfile, AnOperatorsProfileReplacesTheDefault) {
  // The default with vsock allowed back: the file decides, not the code.
  seccomp::Profile profile = defaultProfile();
  for (auto& rule : *profile.mutable_rule())
    if (rule.names(0) == "socket" && rule.action() == seccomp::ALLOW && rule.args_size() == 1)
      rule.mutable_args(0)->add_value(40 /* AF_VSOCK */);
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(profile, &text));
  TempFile file(text);
  auto result =
      runToEnd(hostSpec({"/probe/sandbox_probe", "sockets"}), 20000, launcherWith(file.path()));
  EXPECT_NE(result.out.find("vsock: ok\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("packet: EAFNOSUPPORT\n"), std::string::npos) << result.out;
}

TEST(SeccompProfile, BadProfilesAreRefusedWithTheReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"default_errno: \"EPERM\" rule { names: \"nosuchcall\" action: ALLOW }",
       "unknown syscall 'nosuchcall'"},
      {"default_errno: \"EPERM\" rule { names: \"read\" }", "needs an action"},
      {"default_errno: \"ENOTANERRNO\"", "unknown errno name 'ENOTANERRNO'"},
      {"default_errno: \"EPERM\" rule { names: \"ioctl\" action: ALLOW } "
       "rule { names: \"ioctl\" action: ERRNO errno_name: \"EIO\" "
       "args { index: 1 op: EQ value: 1 } }",
       "ioctl has a rule without conditions and one with"},
      {"default_errno: \"EPERM\" rule { names: \"read\" action: ERRNO errno_name: \"EPERM\" }",
       "its action is the default action"},
      {"default_errno: \"EPERM\" rule { nonsense: 1 }", "line 1:"},
  };
  for (const auto& [text, reason] : cases) {
    auto program = compileSeccompProfile(text, "/etc/x.textproto");
    ASSERT_FALSE(program.ok()) << text;
    EXPECT_NE(program.error().message().find("seccomp profile /etc/x.textproto"), std::string::npos)
        << program.error().message();
    EXPECT_NE(program.error().message().find(reason), std::string::npos)
        << program.error().message();
  }
  auto missing = Launcher::open({.cgroup_parent = testing::kTestCgroupParent,
                                 .runtime_dir = "/run/wick-test",
                                 .seccomp_profile = "/nonexistent/profile"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/nonexistent/profile"), std::string::npos)
      << missing.error().message();
}

}  // namespace
}  // namespace wick::sandbox
