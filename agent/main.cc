// wick-agent: PID 1 of every sandbox, serving the Lambda Runtime API.
//   wick-agent [--host-fd N]     (the host socket, 3 by default)
// Everything else (what to run, its environment, the API address) comes in the
// host's Start message; the agent's own environment is empty.
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "agent/agent.h"

int main(int argc, char** argv) {
  int host_fd = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--host-fd") == 0 && i + 1 < argc) {
      char* end = nullptr;
      const long fd = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || fd < 0 || fd > 65535) {
        static const char kUsage[] = "usage: wick-agent [--host-fd N]\n";
        (void)!::write(2, kUsage, sizeof kUsage - 1);
        return 2;
      }
      host_fd = static_cast<int>(fd);
    }
  }
  if (::fcntl(host_fd, F_GETFD) < 0) {
    static const char kNoHost[] = "wick-agent: no host socket at the given fd\n";
    (void)!::write(2, kNoHost, sizeof kNoHost - 1);
    return 2;
  }
  // Children get 0, 1 and 2 from us: make sure new fds never land there.
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0) {
      int null = ::open("/dev/null", O_RDWR);
      if (null < 0) null = ::open("/", O_RDONLY | O_DIRECTORY);  // a root without /dev
      if (null >= 0 && null != fd) {
        ::dup2(null, fd);
        ::close(null);
      }
    }
  // Payloads are up to 6 MiB and the sandbox's memory is the function's: big
  // buffers are mmapped and go back to the kernel when freed (a fixed
  // threshold; glibc's sliding one would keep them in the heap), one arena.
  ::mallopt(M_MMAP_THRESHOLD, 128 << 10);
  ::mallopt(M_TRIM_THRESHOLD, 256 << 10);
  ::mallopt(M_ARENA_MAX, 1);
  auto agent = wick::agent::Agent::create(host_fd);
  if (!agent) {
    const std::string message = "wick-agent: " + agent.error().message() + "\n";
    (void)!::write(2, message.data(), message.size());
    return 1;
  }
  return (*agent)->run();
}
