#include "sandbox/net_namespace.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

namespace wick::sandbox {

namespace {

Status bringUpLoopback() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::fromErrno("socket for lo");
  ifreq request{};
  std::memcpy(request.ifr_name, "lo", 3);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) return Error::fromErrno("get lo flags");
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) return Error::fromErrno("bring lo up");
  return {};
}

Status pin(const std::string& pin_path) {
  UniqueFd file(::open(pin_path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) return Error::fromErrno("create pin " + pin_path);
  file.reset();
  if (::mount("/proc/thread-self/ns/net", pin_path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    Error error = Error::fromErrno("bind network namespace on " + pin_path);
    ::unlink(pin_path.c_str());
    return error;
  }
  return {};
}

// Runs on its own thread: the namespace change dies with the thread.
Result<UniqueFd> unshareAndOpen(const std::string& pin_path) {
  if (::unshare(CLONE_NEWNET) != 0) return Error::fromErrno("unshare(CLONE_NEWNET)");
  auto fd = openFile("/proc/thread-self/ns/net", O_RDONLY);
  if (!fd) return std::move(fd).error();
  WICK_TRY(bringUpLoopback(), "new network namespace");
  if (!pin_path.empty()) WICK_TRY(pin(pin_path), "new network namespace");
  return std::move(*fd);
}

}  // namespace

NetNamespace& NetNamespace::operator=(NetNamespace&& other) noexcept {
  if (this != &other) {
    (void)release();
    fd_ = std::move(other.fd_);
    path_ = std::move(other.path_);
    pin_path_ = std::move(other.pin_path_);
    inode_ = other.inode_;
    other.pin_path_.clear();
    other.path_.clear();
  }
  return *this;
}

Status NetNamespace::fill(UniqueFd fd) {
  fd_ = std::move(fd);
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return Error::fromErrno("stat network namespace");
  inode_ = st.st_ino;
  path_ = pin_path_.empty()
              ? "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_.get())
              : pin_path_;
  return {};
}

Result<NetNamespace> NetNamespace::create(const std::string& pin_path) {
  Result<UniqueFd> made = Error("not run");
  std::thread([&made, &pin_path] { made = unshareAndOpen(pin_path); }).join();
  if (!made) return std::move(made).error().context("create network namespace");
  NetNamespace ns;
  ns.pin_path_ = pin_path;
  WICK_TRY(ns.fill(std::move(*made)), "create network namespace");
  return ns;
}

Result<NetNamespace> NetNamespace::adoptPinned(const std::string& pin_path) {
  NetNamespace ns;
  // Owned from here on: a pin that is not a namespace (a crash between the
  // file's creation and its bind) is still ours to remove.
  ns.pin_path_ = pin_path;
  auto fd = openFile(pin_path, O_RDONLY);
  if (!fd) return std::move(fd).error().context("adopt network namespace");
  struct statfs fs {};
  if (::fstatfs(fd->get(), &fs) != 0 || fs.f_type != NSFS_MAGIC)
    return Error("adopt network namespace: " + pin_path + " is not a namespace", EINVAL);
  WICK_TRY(ns.fill(std::move(*fd)), "adopt network namespace");
  return ns;
}

Result<std::vector<std::string>> NetNamespace::listPinned(const std::string& dir,
                                                          const std::string& prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename();
    if (name.starts_with(prefix)) names.push_back(name);
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    return Error("list network namespaces in " + dir + ": " + ec.message(), ec.value());
  return names;
}

Status NetNamespace::release() {
  fd_.reset();
  path_.clear();
  if (pin_path_.empty()) return {};
  const std::string pin_path = std::move(pin_path_);
  pin_path_.clear();
  if (::umount2(pin_path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return Error::fromErrno("unmount network namespace pin " + pin_path);
  if (::unlink(pin_path.c_str()) != 0 && errno != ENOENT)
    return Error::fromErrno("remove network namespace pin " + pin_path);
  return {};
}

}  // namespace wick::sandbox
