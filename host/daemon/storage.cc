#include "host/daemon/storage.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace wick::daemon {

namespace {

// share/wick/rootfs beside the directory wickd runs from (bin/).
std::string defaultRootfsDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path().parent_path() / "share/wick/rootfs").string();
}

}  // namespace

Result<Storage> openStorage(const DaemonConfig& config) {
  const std::string& state = config.state_dir();
  Storage storage;
  auto registry = registry::SqliteRegistry::open(state + "/wick.db");
  if (!registry) return std::move(registry).error();
  storage.registry = std::move(*registry);
  storage.code = std::make_unique<functions::LocalCodeStore>(state + "/code");
  WICK_TRY(storage.code->prepare(), "code store");
  auto images = images::ImageStore::open(state + "/images");
  if (!images) return Error("image store: " + images.error().message());
  storage.images = std::make_unique<images::ImageStore>(std::move(*images));
  storage.layer_content = std::make_unique<functions::LocalCodeStore>(state + "/layers", "opt");
  WICK_TRY(storage.layer_content->prepare(), "layer store");

  const std::string rootfs_dir =
      config.rootfs_dir().empty() ? defaultRootfsDir() : config.rootfs_dir();
  if (::access((rootfs_dir + "/build-base").c_str(), X_OK) != 0)
    return Error("no base root builder at " + rootfs_dir + "/build-base: " + std::strerror(errno) +
                 " (set rootfs_dir to wick's rootfs/ directory)");
  storage.bases = std::make_unique<runtimes::BaseStore>(
      config.runtimes_dir().empty() ? state + "/runtimes" : config.runtimes_dir(),
      rootfs_dir + "/build-base");
  WICK_TRY(storage.bases->prepare(), "base roots");
  return storage;
}

}  // namespace wick::daemon
