// A program run inside test sandboxes: each verb tries one thing and prints
// what happened, so the tests can assert the kernel's answer.
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

void report(const char* what, long rc) {
  if (rc < 0)
    std::printf("%s: %s\n", what, strerrorname_np(errno));
  else
    std::printf("%s: ok\n", what);
}

int denied() {
  report("mount", ::mount("none", "/tmp", "tmpfs", 0, nullptr));
  report("umount2", ::umount2("/proc", MNT_DETACH));
  report("unshare_user", ::unshare(CLONE_NEWUSER));
  report("unshare_net", ::unshare(CLONE_NEWNET));
  report("keyctl", ::syscall(SYS_keyctl, 0 /*KEYCTL_GET_KEYRING_ID*/, -3, 0));
  union bpf_attr attr {};
  report("bpf", ::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
  perf_event_attr perf{};
  perf.size = sizeof perf;
  report("perf_event_open", ::syscall(SYS_perf_event_open, &perf, 0, -1, -1, 0));
  io_uring_params params{};
  report("io_uring_setup", ::syscall(SYS_io_uring_setup, 1, &params));
  clone_args args{};
  args.exit_signal = SIGCHLD;
  long child = ::syscall(SYS_clone3, &args, sizeof args);
  if (child == 0) ::_exit(0);
  if (child > 0) ::waitpid(static_cast<pid_t>(child), nullptr, 0);
  report("clone3", child);
  report("socket_packet", ::socket(AF_PACKET, SOCK_RAW, 0));
  report("setns", ::syscall(SYS_setns, 0, 0));
  report("chroot", ::chroot("/tmp"));
  report("personality_norandom", ::syscall(SYS_personality, 0x0040000));
  report("personality_query", ::syscall(SYS_personality, 0xffffffff));
  // ptrace of another process of the sandbox.
  pid_t victim = ::fork();
  if (victim == 0) {
    ::pause();
    ::_exit(0);
  }
  report("ptrace_attach", ::ptrace(PTRACE_ATTACH, victim, nullptr, nullptr));
  ::kill(victim, SIGKILL);
  ::waitpid(victim, nullptr, 0);
  // A plain fork still works.
  pid_t plain = ::fork();
  if (plain == 0) ::_exit(0);
  report("fork", plain);
  if (plain > 0) ::waitpid(plain, nullptr, 0);
  return 0;
}

// A syscall through the x32 ABI (same numbers, bit 30 set) must not slip past
// the filter's rules: the process is killed.
int x32() {
  long rc = ::syscall(0x40000000 | SYS_getpid);
  std::printf("x32 getpid returned %ld (%s)\n", rc, rc < 0 ? strerrorname_np(errno) : "ok");
  return 0;
}

// CVE-2017-5226: push bytes into the input queue of the terminal this process
// came from, so that the shell that started it would read them as typed.
int tty() {
  const char* line = "echo INJECTED-BY-SANDBOX\n";
  auto inject = [line](const char* what, int fd, unsigned long request) {
    long rc = 0;
    for (const char* c = line; *c != 0 && rc == 0; ++c)
      rc = ::syscall(SYS_ioctl, fd, request, c);
    report(what, rc);
  };
  int tty_fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  report("open_dev_tty", tty_fd);
  if (tty_fd >= 0) inject("tiocsti_dev_tty", tty_fd, TIOCSTI);
  inject("tiocsti_stdin", 0, TIOCSTI);
  // The kernel reads the request as 32 bits: bits above them must not slip by
  // the filter.
  inject("tiocsti_high_bits", 0, (1ul << 32) | TIOCSTI);
  char subcode = 2;  // TIOCL_SETSEL: copy and paste on a virtual console
  report("tioclinux", ::ioctl(0, TIOCLINUX, &subcode));
  return 0;
}

// socket() of each family: which ones the sandbox may open.
int sockets() {
  struct Family {
    const char* name;
    unsigned long domain;
    int type;
    int protocol;
  };
  const Family families[] = {{"unix", AF_UNIX, SOCK_STREAM, 0},
                             {"inet", AF_INET, SOCK_DGRAM, 0},
                             {"inet6", AF_INET6, SOCK_DGRAM, 0},
                             {"netlink_route", AF_NETLINK, SOCK_RAW, NETLINK_ROUTE},
                             {"netlink_audit", AF_NETLINK, SOCK_RAW, NETLINK_AUDIT},
                             {"vsock", AF_VSOCK, SOCK_STREAM, 0},
                             {"packet", AF_PACKET, SOCK_RAW, 0},
                             {"alg", AF_ALG, SOCK_SEQPACKET, 0},
                             {"key", AF_KEY, SOCK_RAW, 2},
                             // The kernel reads the family as an int.
                             {"vsock_high_bits", (1ul << 32) | AF_VSOCK, SOCK_STREAM, 0}};
  for (const auto& family : families) {
    long fd = ::syscall(SYS_socket, family.domain, family.type, family.protocol);
    report(family.name, fd);
    if (fd >= 0) ::close(static_cast<int>(fd));
  }
  return 0;
}

// Every syscall number from 0 to `last`, each in a child of its own with every
// argument -1 (a bad fd, a bad pointer, an invalid flag: the kernel refuses
// nearly all of them without doing anything). Prints "NR ERRNO" or "NR ok", or
// "NR gone" when the call ended or blocked the child (it reached the
// kernel). A seccomp refusal is an errno only.
int syscalls(long last) {
  for (long nr = 0; nr <= last; ++nr) {
    int out[2];
    if (::pipe(out) != 0) return 1;
    pid_t child = ::fork();
    if (child == 0) {
      ::close(out[0]);
      itimerval stop{{0, 0}, {0, 200'000}};
      ::setitimer(ITIMER_REAL, &stop, nullptr);  // pause() and friends
      const pid_t self = ::getpid();
      const long all_ones = -1;
      long rc = ::syscall(nr, all_ones, all_ones, all_ones, all_ones, all_ones, all_ones);
      int err = errno;
      if (::getpid() != self) ::_exit(0);  // fork, vfork: the new process leaves
      char line[64];
      int n =
          std::snprintf(line, sizeof line, "%ld %s\n", nr, rc < 0 ? strerrorname_np(err) : "ok");
      (void)!::write(out[1], line, static_cast<size_t>(n));
      ::_exit(0);
    }
    ::close(out[1]);
    char line[64];
    ssize_t n = ::read(out[0], line, sizeof line - 1);
    ::close(out[0]);
    ::waitpid(child, nullptr, 0);
    if (n > 0)
      std::fwrite(line, 1, static_cast<size_t>(n), stdout);
    else
      std::printf("%ld gone\n", nr);
  }
  return 0;
}

int fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  int own = ::dirfd(dir);
  std::string list;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.' || std::atoi(entry->d_name) == own) continue;
    list += std::string(list.empty() ? "" : " ") + entry->d_name;
  }
  std::printf("fds: %s\n", list.c_str());
  return 0;
}

int alloc(size_t megabytes) {
  std::vector<char*> blocks;
  for (size_t i = 0; i < megabytes; ++i) {
    char* block = static_cast<char*>(std::malloc(1 << 20));
    std::memset(block, 1, 1 << 20);
    blocks.push_back(block);
  }
  std::printf("allocated %zu MB\n", megabytes);
  return 0;
}

int spin(double seconds, int threads) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([&stop] {
      volatile uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed))
        n = n + 1;
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& worker : workers)
    worker.join();
  return 0;
}

int forkbomb() {
  int made = 0;
  int last_errno = 0;
  for (int i = 0; i < 100000; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
    if (pid < 0) {
      last_errno = errno;
      break;
    }
    ++made;
  }
  std::printf("forked %d then %s\n", made, last_errno ? strerrorname_np(last_errno) : "nothing");
  std::fflush(stdout);
  ::kill(0, SIGKILL);  // the children die with us (we are PID 1)
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string verb = argc > 1 ? argv[1] : "";
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (verb == "denied") return denied();
  if (verb == "fds") return fds();
  if (verb == "tty") return tty();
  if (verb == "sockets") return sockets();
  if (verb == "syscalls" && argc > 2) return syscalls(std::atol(argv[2]));
  if (verb == "x32") return x32();
  if (verb == "alloc" && argc > 2) return alloc(std::strtoul(argv[2], nullptr, 10));
  if (verb == "spin" && argc > 3) return spin(std::atof(argv[2]), std::atoi(argv[3]));
  if (verb == "forkbomb") return forkbomb();
  std::fprintf(stderr,
               "usage: sandbox_probe denied|fds|tty|sockets|syscalls LAST|alloc MB|spin SECONDS "
               "THREADS|forkbomb\n");
  return 2;
}
