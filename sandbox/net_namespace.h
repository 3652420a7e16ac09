// A network namespace that outlives any process in it: made empty (only `lo`,
// up), networked by someone else (CNI), joined by sandboxes through
// SandboxSpec::netns_fd. It is held by one open nsfs fd and, when pinned, by a
// bind mount of that nsfs file at a path, as `ip netns add` does: a pinned
// namespace survives a crash of its holder, so whoever reclaims it can still
// undo what was set up inside it (a CNI DEL needs the namespace to find its
// addresses). release() (or the destructor) unmounts the pin and closes the
// fd; the kernel frees the namespace and every interface in it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace wick::sandbox {

class NetNamespace {
 public:
  // A new namespace with `lo` up, pinned at `pin_path` unless it is empty.
  // The calling thread's own namespace is untouched (a short-lived thread
  // unshares).
  static Result<NetNamespace> create(const std::string& pin_path = "");
  // The namespace pinned at `pin_path` (a crashed run's), now owned by us.
  static Result<NetNamespace> adoptPinned(const std::string& pin_path);
  // Names in `dir` starting with `prefix` (pins to reclaim).
  static Result<std::vector<std::string>> listPinned(const std::string& dir,
                                                     const std::string& prefix);

  NetNamespace(NetNamespace&& other) noexcept { *this = std::move(other); }
  NetNamespace& operator=(NetNamespace&& other) noexcept;
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;
  ~NetNamespace() { (void)release(); }

  int fd() const { return fd_.get(); }
  // A path another process can open (CNI_NETNS): the pin, or
  // /proc/<our pid>/fd/<fd> when not pinned.
  const std::string& path() const { return path_; }
  // The namespace's inode number (as `ls -iL /proc/PID/ns/net` shows).
  uint64_t inode() const { return inode_; }

  Status release();

 private:
  NetNamespace() = default;
  Status fill(UniqueFd fd);
  UniqueFd fd_;
  std::string path_;
  std::string pin_path_;
  uint64_t inode_ = 0;
};

}  // namespace wick::sandbox
