#include "host/network/conntrack.h"

#include "host/network/subprocess.h"

namespace wick::network {

namespace {

Status runConntrack(const char* direction, const std::string& address) {
  auto output = runProgram({.argv = {"/usr/sbin/conntrack", "-D", direction, address}});
  if (!output) return std::move(output).error();
  // conntrack exits 1 when no entry matched: not an error here.
  if (output->exit_code > 1)
    return Error(
        "conntrack -D " + std::string(direction) + " " + address + ": " + output->stderr_text, EIO);
  return {};
}

}  // namespace

Status flushConntrack(const std::string& address) {
  WICK_TRY(runConntrack("-s", address), "flush conntrack of " + address);
  WICK_TRY(runConntrack("-d", address), "flush conntrack of " + address);
  return {};
}

}  // namespace wick::network
