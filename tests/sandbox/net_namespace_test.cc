// A sandbox joins a network namespace made ahead of time instead of making
// its own; the namespace lives exactly as long as its owner.
#include "sandbox/net_namespace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "sandbox_test_support.h"

namespace wick::sandbox::testing {
namespace {

std::string hostNetnsInode() {
  struct stat st {};
  ::stat("/proc/self/ns/net", &st);
  return std::to_string(st.st_ino);
}

TEST(NetNamespace, ASandboxJoinsTheGivenNamespace) {
  auto netns = NetNamespace::create();
  ASSERT_TRUE(netns.ok()) << netns.error().message();
  EXPECT_NE(std::to_string(netns->inode()), hostNetnsInode());
  auto spec = shellSpec("readlink /proc/self/ns/net; cat /proc/net/dev | grep -c :");
  spec.netns_fd = netns->fd();
  auto result = runToEnd(spec);
  EXPECT_EQ(result.status.shellCode(), 0) << result.out;
  // Only lo in it, and it is the namespace we hold.
  EXPECT_EQ(result.out, "net:[" + std::to_string(netns->inode()) + "]\n1\n");
}

TEST(NetNamespace, TwoSandboxesShareOneNamespaceWhenGivenTheSameFd) {
  auto netns = NetNamespace::create();
  ASSERT_TRUE(netns.ok()) << netns.error().message();
  for (int i = 0; i < 2; ++i) {
    auto spec = shellSpec("readlink /proc/self/ns/net");
    spec.netns_fd = netns->fd();
    EXPECT_EQ(runToEnd(spec).out, "net:[" + std::to_string(netns->inode()) + "]\n");
  }
}

TEST(NetNamespace, APinnedNamespaceIsAdoptedAndItsPinRemovedOnRelease) {
  const std::string dir = "/run/wick-test/netns";
  ::mkdir("/run/wick-test", 0700);
  ::mkdir(dir.c_str(), 0700);
  const std::string pin = dir + "/wick-pin-" + std::to_string(::getpid());
  // A holder that dies without releasing (a crash): the pin outlives it.
  pid_t child = ::fork();
  if (child == 0) {
    auto netns = NetNamespace::create(pin);
    ::_exit(netns.ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(status, 0);
  struct stat st {};
  ASSERT_EQ(::stat(pin.c_str(), &st), 0);
  struct stat host {};
  ::stat("/proc/self/ns/net", &host);
  EXPECT_NE(st.st_ino, host.st_ino);  // the bind mount shows another namespace
  auto names = NetNamespace::listPinned(dir, "wick-pin-");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);
  {
    auto adopted = NetNamespace::adoptPinned(pin);
    ASSERT_TRUE(adopted.ok()) << adopted.error().message();
    EXPECT_EQ(adopted->inode(), st.st_ino);
    EXPECT_EQ(adopted->path(), pin);
  }
  EXPECT_NE(::access(pin.c_str(), F_OK), 0);  // unmounted and removed
  ::rmdir(dir.c_str());
}

TEST(NetNamespace, AdoptingAPlainFileFailsButRemovesIt) {
  const std::string pin = "/run/wick-test/not-a-namespace";
  ::mkdir("/run/wick-test", 0700);
  ::close(::open(pin.c_str(), O_CREAT | O_WRONLY, 0600));
  auto adopted = NetNamespace::adoptPinned(pin);
  ASSERT_FALSE(adopted.ok());
  EXPECT_NE(adopted.error().message().find("is not a namespace"), std::string::npos);
  EXPECT_NE(::access(pin.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace wick::sandbox::testing
