// Scratch directories and a read-only overlay mount, both released on scope exit.
#pragma once

#include <stdlib.h>
#include <sys/mount.h>

#include <filesystem>
#include <string>
#include <vector>

namespace wick::images::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wick-images-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Layer trees bottom first, mounted as the sandbox does: overlay, lowerdirs
// only (top first in the option), read-only.
class OverlayMount {
 public:
  OverlayMount(const std::vector<std::string>& layers_bottom_first, std::string target)
      : target_(std::move(target)) {
    std::filesystem::create_directories(target_);
    std::string lower;
    for (auto it = layers_bottom_first.rbegin(); it != layers_bottom_first.rend(); ++it)
      lower += (lower.empty() ? "" : ":") + *it;
    const std::string data = "lowerdir=" + lower;
    ok_ = ::mount("overlay", target_.c_str(), "overlay", MS_RDONLY | MS_NODEV | MS_NOSUID,
                  data.c_str()) == 0;
  }
  ~OverlayMount() {
    if (ok_) ::umount2(target_.c_str(), MNT_DETACH);
  }
  OverlayMount(const OverlayMount&) = delete;
  OverlayMount& operator=(const OverlayMount&) = delete;
  bool ok() const { return ok_; }

 private:
  std::string target_;
  bool ok_ = false;
};

}  // namespace wick::images::testing
