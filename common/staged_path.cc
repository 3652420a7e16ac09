#include "common/staged_path.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "common/unique_fd.h"

namespace wick {

namespace {

std::string randomSuffix() {
  unsigned long long nonce = 0;
  // A short read only makes the name less random; O_EXCL / mkdir at the
  // writer and the rename's own checks still keep two writers apart.
  (void)::getrandom(&nonce, sizeof nonce, 0);
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", nonce);
  return text;
}

}  // namespace

StagedPath StagedPath::beside(std::string destination) {
  std::string path = destination + std::string(kMarker) + randomSuffix();
  return StagedPath(std::move(path), std::move(destination));
}

StagedPath StagedPath::in(const std::string& dir, std::string_view prefix,
                          std::string destination) {
  std::string path = dir + "/" + std::string(prefix) + std::string(kMarker) + randomSuffix();
  return StagedPath(std::move(path), std::move(destination));
}

StagedPath::StagedPath(std::string path, std::string destination)
    : path_(std::move(path)), destination_(std::move(destination)), armed_(true) {}

StagedPath::StagedPath(StagedPath&& other) noexcept
    : path_(std::move(other.path_)),
      destination_(std::move(other.destination_)),
      armed_(std::exchange(other.armed_, false)) {}

StagedPath& StagedPath::operator=(StagedPath&& other) noexcept {
  if (this != &other) {
    removeStaged();
    path_ = std::move(other.path_);
    destination_ = std::move(other.destination_);
    armed_ = std::exchange(other.armed_, false);
  }
  return *this;
}

StagedPath::~StagedPath() {
  removeStaged();
}

void StagedPath::removeStaged() noexcept {
  if (!armed_) return;
  armed_ = false;
  std::error_code ignored;  // nothing written yet, or already gone: both fine
  std::filesystem::remove_all(path_, ignored);
}

Status StagedPath::writeFile(std::string_view content, int mode) const {
  auto out = openFile(path_, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (!out) return std::move(out).error();
  WICK_TRY(writeAll(out->get(), content), "write " + path_);
  if (::fsync(out->get()) != 0) return Error::fromErrno("fsync " + path_);
  return {};
}

Status StagedPath::commitTo(std::string destination) {
  destination_ = std::move(destination);
  return commit();
}

Status StagedPath::commit() {
  if (!armed_) return Error("commit " + path_ + ": already committed or moved from", EINVAL);
  if (destination_.empty()) return Error("commit " + path_ + ": no destination named", EINVAL);
  if (::rename(path_.c_str(), destination_.c_str()) != 0)
    return Error::fromErrno("rename " + path_ + " to " + destination_);
  armed_ = false;
  return {};
}

Result<bool> StagedPath::commitUnlessPresent() {
  auto committed = commit();
  if (committed) return true;
  const int err = committed.error().errNo();
  if ((err == EEXIST || err == ENOTEMPTY) && ::access(destination_.c_str(), F_OK) == 0) {
    removeStaged();
    return false;
  }
  return std::move(committed).error();
}

bool isStagedName(std::string_view file_name) {
  return file_name.find(StagedPath::kMarker) != std::string_view::npos;
}

}  // namespace wick
