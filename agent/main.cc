// wick-agent: PID 1 of every sandbox, serving the Lambda Runtime API.
//   wick-agent [--host-fd N]     (the host socket, 3 by default)
#include <cstdlib>
#include <cstring>

#include "agent/agent.h"

int main(int argc, char** argv) {
  int host_fd = 3;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--host-fd") == 0) host_fd = std::atoi(argv[i + 1]);
  return wick::agent::Agent(host_fd).run();
}
