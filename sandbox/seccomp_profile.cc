#include "sandbox/seccomp_profile.h"

#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "common/unique_fd.h"

namespace wick::sandbox {

namespace {

// Denied outright: the kernel's attack surface a function has no use for
// (../shared/reference/isolation.md, after Docker's default profile).
constexpr const char* kDenied[] = {
    "mount", "umount", "umount2", "pivot_root", "chroot", "setns", "keyctl", "add_key",
    "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register",
    // ptrace is denied whole: a function has no debugger, and the agent (PID 1,
    // same uid) must not be traced.
    "ptrace", "process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "open_by_handle_at", "name_to_handle_at",
    "swapon", "swapoff", "reboot", "acct", "settimeofday", "clock_settime", "clock_adjtime",
    "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm", "quotactl", "quotactl_fd",
    "lookup_dcookie", "nfsservctl", "syslog", "vhangup", "mbind", "set_mempolicy", "fanotify_init",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "uselib", "ustat",
    "sysfs", "_sysctl", "get_kernel_syms", "query_module", "create_module", "afs_syscall",
    "vserver", "kcmp", "pidfd_getfd"};

constexpr uint64_t kNamespaceFlags[] = {CLONE_NEWNS,     CLONE_NEWUTS, CLONE_NEWIPC,
                                        CLONE_NEWUSER,   CLONE_NEWPID, CLONE_NEWNET,
                                        CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */};

// personality() flags that weaken ASLR or exec protection.
constexpr uint64_t kPersonalityFlags[] = {
    0x0040000 /* ADDR_NO_RANDOMIZE */, 0x0400000 /* READ_IMPLIES_EXEC */,
    0x0200000 /* ADDR_COMPAT_LAYOUT */, 0x0100000 /* MMAP_PAGE_ZERO */};

struct ContextDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

Status addRule(scmp_filter_ctx ctx, uint32_t action, const char* name, unsigned count = 0,
               scmp_arg_cmp a = {}, scmp_arg_cmp b = {}) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return {};  // unknown to this libseccomp: not on this arch
  int rc = count == 0   ? seccomp_rule_add(ctx, action, nr, 0)
           : count == 1 ? seccomp_rule_add(ctx, action, nr, 1, a)
                        : seccomp_rule_add(ctx, action, nr, 2, a, b);
  if (rc != 0) return Error::fromErrno(std::string("seccomp rule for ") + name, -rc);
  return {};
}

}  // namespace

Result<std::vector<uint8_t>> compileDefaultSeccompProfile() {
  std::unique_ptr<void, ContextDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Error("seccomp_init failed", ENOMEM);
  // Only the native ABI: x32 and i386 syscall numbers would bypass the rules.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS))
    return Error::fromErrno("seccomp bad-arch action", -rc);

  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDenied)
    WICK_TRY(addRule(ctx.get(), eperm, name), "seccomp profile");
  for (uint64_t flag : kNamespaceFlags) {
    WICK_TRY(addRule(ctx.get(), eperm, "clone", 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
             "seccomp profile");
    WICK_TRY(addRule(ctx.get(), eperm, "unshare", 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
             "seccomp profile");
  }
  // clone3 passes its flags in memory, out of seccomp's reach.
  WICK_TRY(addRule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3"), "seccomp profile");
  for (uint64_t flag : kPersonalityFlags)
    WICK_TRY(addRule(ctx.get(), eperm, "personality", 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
             "seccomp profile");
  // CVE-2017-5226: no typing into a terminal the sandbox shares. The kernel
  // reads the request as 32 bits: compare only those.
  for (uint64_t request : {TIOCSTI, TIOCLINUX})
    WICK_TRY(
        addRule(ctx.get(), eperm, "ioctl", 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request)),
        "seccomp profile");
  WICK_TRY(addRule(ctx.get(), eperm, "socket", 1, SCMP_A0(SCMP_CMP_EQ, AF_PACKET)),
           "seccomp profile");
  WICK_TRY(addRule(ctx.get(), eperm, "socket", 2, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
                   SCMP_A2(SCMP_CMP_EQ, NETLINK_AUDIT)),
           "seccomp profile");

  // Export the BPF program through a memfd (libseccomp 2.5 exports to fds only).
  UniqueFd memfd(::memfd_create("wick-seccomp", MFD_CLOEXEC));
  if (!memfd) return Error::fromErrno("memfd_create for seccomp export");
  if (int rc = seccomp_export_bpf(ctx.get(), memfd.get()))
    return Error::fromErrno("seccomp_export_bpf", -rc);
  off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size <= 0) return Error::fromErrno("seccomp export size");
  std::vector<uint8_t> program(static_cast<size_t>(size));
  if (::pread(memfd.get(), program.data(), program.size(), 0) != size)
    return Error::fromErrno("read seccomp program");
  return program;
}

}  // namespace wick::sandbox
