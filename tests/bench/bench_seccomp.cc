// The seccomp filter's price on the hot path: the cost of a few syscalls with
// no filter (the baseline), under the default profile (default-deny, a binary
// tree of ~280 rules), and under the deny list it replaced (default allow, 70
// rules checked one by one; rebuilt here from its list, for comparison only).
// Each variant runs in a forked child that loads its filter and times the same
// loops, interleaved over several rounds. Usage: bench_seccomp [ROUNDS]
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "sandbox/seccomp_profile.h"

namespace {

using Clock = std::chrono::steady_clock;
using Program = std::vector<uint8_t>;

// The deny list of the profile before issue 15 (default ALLOW).
Program legacyDenyList() {
  const char* denied[] = {"mount",
                          "umount2",
                          "pivot_root",
                          "chroot",
                          "setns",
                          "keyctl",
                          "add_key",
                          "request_key",
                          "bpf",
                          "perf_event_open",
                          "userfaultfd",
                          "io_uring_setup",
                          "io_uring_enter",
                          "io_uring_register",
                          "ptrace",
                          "process_vm_readv",
                          "process_vm_writev",
                          "kexec_load",
                          "kexec_file_load",
                          "init_module",
                          "finit_module",
                          "delete_module",
                          "open_by_handle_at",
                          "name_to_handle_at",
                          "swapon",
                          "swapoff",
                          "reboot",
                          "acct",
                          "settimeofday",
                          "clock_settime",
                          "clock_adjtime",
                          "adjtimex",
                          "sethostname",
                          "setdomainname",
                          "iopl",
                          "ioperm",
                          "quotactl",
                          "quotactl_fd",
                          "lookup_dcookie",
                          "nfsservctl",
                          "syslog",
                          "vhangup",
                          "mbind",
                          "set_mempolicy",
                          "fanotify_init",
                          "move_mount",
                          "open_tree",
                          "fsopen",
                          "fsconfig",
                          "fsmount",
                          "fspick",
                          "mount_setattr",
                          "landlock_create_ruleset",
                          "landlock_add_rule",
                          "landlock_restrict_self",
                          "uselib",
                          "ustat",
                          "sysfs",
                          "kcmp",
                          "pidfd_getfd"};
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  for (const char* name : denied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr >= 0) seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
  }
  for (uint64_t flag : {0x20000ul, 0x4000000ul, 0x8000000ul, 0x10000000ul, 0x20000000ul,
                        0x40000000ul, 0x2000000ul, 0x80ul}) {
    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                     SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                     SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
  }
  seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  for (uint64_t request : {0x5412ul, 0x541cul})
    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request));
  seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, 17));
  int memfd = ::memfd_create("bench", 0);
  seccomp_export_bpf(ctx, memfd);
  seccomp_release(ctx);
  Program program(static_cast<size_t>(::lseek(memfd, 0, SEEK_END)));
  (void)!::pread(memfd, program.data(), program.size(), 0);
  ::close(memfd);
  return program;
}

struct Loop {
  const char* name;
  long (*call)(int fd);
};

const Loop kLoops[] = {
    {"getppid", [](int) { return ::syscall(SYS_getppid); }},
    {"read(-1) EBADF", [](int) { return ::syscall(SYS_read, -1, nullptr, 0); }},
    {"ioctl FIONREAD (argument rule)",
     [](int fd) {
       int n;
       return ::syscall(SYS_ioctl, fd, FIONREAD, &n);
     }},
    {"openat+close /dev/null",
     [](int) {
       long fd = ::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
       return ::syscall(SYS_close, fd);
     }},
};
constexpr int kCallsPerLoop = 200'000;

// In a child: load `program` (if any), time each loop, write the load's ns
// then ns per call of each loop.
std::vector<double> measure(const Program* program) {
  int out[2];
  if (::pipe(out) != 0) std::abort();
  pid_t child = ::fork();
  if (child == 0) {
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    auto load_started = Clock::now();
    if (program != nullptr) {
      sock_fprog fprog{static_cast<unsigned short>(program->size() / sizeof(sock_filter)),
                       reinterpret_cast<sock_filter*>(const_cast<uint8_t*>(program->data()))};
      if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) ::_exit(1);
    }
    double load_ns = std::chrono::duration<double, std::nano>(Clock::now() - load_started).count();
    (void)!::write(out[1], &load_ns, sizeof load_ns);
    int pipe_fds[2];
    (void)!::pipe(pipe_fds);
    for (const auto& loop : kLoops) {
      auto start = Clock::now();
      for (int i = 0; i < kCallsPerLoop; ++i)
        loop.call(pipe_fds[0]);
      double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
      double per_call = ns / kCallsPerLoop;
      (void)!::write(out[1], &per_call, sizeof per_call);
    }
    ::_exit(0);
  }
  ::close(out[1]);
  std::vector<double> results(std::size(kLoops) + 1);
  size_t filled = 0;
  const size_t wanted = results.size() * sizeof(double);
  while (filled < wanted) {
    ssize_t n = ::read(out[0], reinterpret_cast<char*>(results.data()) + filled, wanted - filled);
    if (n <= 0) break;
    filled += static_cast<size_t>(n);
  }
  ::close(out[0]);
  ::waitpid(child, nullptr, 0);
  return results;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  auto started = Clock::now();
  auto compiled = wick::sandbox::loadSeccompProfile("");
  double compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  if (!compiled) {
    std::fprintf(stderr, "%s\n", compiled.error().message().c_str());
    return 1;
  }
  const Program legacy = legacyDenyList();
  std::printf("default profile: %zu BPF instructions, compiled in %.2f ms; legacy deny list: %zu\n",
              compiled->size() / sizeof(sock_filter), compile_ms,
              legacy.size() / sizeof(sock_filter));

  const std::pair<const char*, const Program*> variants[] = {{"no filter (baseline)", nullptr},
                                                             {"legacy deny list", &legacy},
                                                             {"default profile", &*compiled}};
  std::map<std::string, std::vector<std::vector<double>>> samples;  // variant -> loop -> ns
  for (int round = 0; round < rounds; ++round)
    for (const auto& [name, program] : variants) {
      auto results = measure(program);
      auto& per_loop = samples[name];
      per_loop.resize(results.size());
      for (size_t i = 0; i < results.size(); ++i)
        per_loop[i].push_back(results[i]);
    }
  std::printf("ns per call, median of %d rounds of %d calls:\n", rounds, kCallsPerLoop);
  std::printf("%-32s", "");
  for (const auto& [name, program] : variants)
    std::printf("%24s", name);
  std::printf("\n");
  for (size_t i = 0; i <= std::size(kLoops); ++i) {
    std::printf("%-32s", i == 0 ? "load the filter (prctl)" : kLoops[i - 1].name);
    double base = median(samples[variants[0].first][i]);
    for (const auto& [name, program] : variants) {
      double value = median(samples[name][i]);
      std::printf("%15.1f (%+5.1f)", value, value - base);
    }
    std::printf("\n");
  }
  return 0;
}
