// What wickd keeps under its state directory, opened in this order: the
// registry (wick.db), function code, images, layer contents, base roots.
#pragma once

#include <memory>

#include "common/error.h"
#include "host/daemon/config.h"
#include "host/functions/code_store.h"
#include "host/registry/sqlite_registry.h"
#include "host/runtimes/base_store.h"
#include "images/image_store.h"

namespace wick::daemon {

struct Storage {
  std::unique_ptr<registry::SqliteRegistry> registry;
  std::unique_ptr<functions::LocalCodeStore> code;
  std::unique_ptr<images::ImageStore> images;
  std::unique_ptr<functions::LocalCodeStore> layer_content;
  // Base roots of the runtimes, built on first need by rootfs/build-base.
  std::unique_ptr<runtimes::BaseStore> bases;
};

Result<Storage> openStorage(const DaemonConfig& config);

}  // namespace wick::daemon
