#include "host/functions/code_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/encoding.h"
#include "common/staged_path.h"
#include "common/unique_fd.h"

namespace wick::functions {

namespace fs = std::filesystem;

namespace {
// Bytes of the regular files under `tree` (what unpacking it wrote).
int64_t treeBytes(const std::string& tree) {
  int64_t bytes = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(tree, ec), end; !ec && it != end; it.increment(ec))
    if (it->symlink_status(ec).type() == fs::file_type::regular)
      bytes += static_cast<int64_t>(it->file_size(ec));
  return bytes;
}
}  // namespace

Status LocalCodeStore::prepare() const {
  std::error_code ec;
  fs::create_directories(root_ + "/zips", ec);
  if (!ec) fs::create_directories(root_ + "/trees", ec);
  if (ec) return Error("create code store under " + root_ + ": " + ec.message(), ec.value());
  // Interrupted writes of an earlier run.
  for (const auto& dir : {root_ + "/zips", root_ + "/trees"})
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (isStagedName(entry.path().filename().string())) fs::remove_all(entry.path(), ec);
  return {};
}

std::string LocalCodeStore::zipPath(const std::string& hex) const {
  return root_ + "/zips/" + hex + ".zip";
}
std::string LocalCodeStore::treePath(const std::string& hex) const {
  return root_ + "/trees/" + hex;
}

Result<StoredCode> LocalCodeStore::put(const std::string& zip_bytes,
                                       const images::ExtractOptions& options) const {
  StoredCode code;
  const std::string digest = sha256(zip_bytes);
  code.sha256_hex = toHex(digest);
  code.sha256_base64 = base64Encode(digest);
  code.size = static_cast<int64_t>(zip_bytes.size());

  const std::string tree = treePath(code.sha256_hex);
  if (::access(tree.c_str(), F_OK) != 0) {
    auto unpacked = unpackTree(zip_bytes, tree, options);
    if (!unpacked) return std::move(unpacked).error();
    code.unpacked_size = *unpacked;
  } else {
    // Unpacked by an earlier put (another function or layer): it weighs as much.
    code.unpacked_size = treeBytes(tree);
  }
  const std::string zip = zipPath(code.sha256_hex);
  if (::access(zip.c_str(), F_OK) != 0) {
    StagedPath staged = StagedPath::beside(zip);
    WICK_TRY(staged.writeFile(zip_bytes), "store code " + code.sha256_hex);
    WICK_TRY(staged.commit(), "store code " + code.sha256_hex);
  }
  return code;
}

Result<int64_t> LocalCodeStore::unpackTree(const std::string& zip_bytes, const std::string& tree,
                                           const images::ExtractOptions& options) const {
  // Unpacked beside the tree, then renamed in: all or nothing.
  StagedPath staged = StagedPath::beside(tree);
  std::error_code ec;
  if (!tree_subdir_.empty() && !fs::create_directories(staged.path(), ec))
    return Error("create " + staged.path() + ": " + ec.message(), ec.value());
  const std::string destination =
      tree_subdir_.empty() ? staged.path() : staged.path() + "/" + tree_subdir_;
  auto extracted =
      images::extractArchiveFromMemory(zip_bytes.data(), zip_bytes.size(), destination, options);
  if (!extracted) return std::move(extracted).error();
  // Another request may have unpacked the same zip meanwhile: that is fine.
  auto renamed = staged.commitUnlessPresent();
  if (!renamed) return std::move(renamed).error();
  return static_cast<int64_t>(extracted->bytes);
}

Status LocalCodeStore::remove(const std::string& hex) const {
  std::error_code ec;
  fs::remove(zipPath(hex), ec);
  fs::remove_all(treePath(hex), ec);
  if (ec) return Error("remove code " + hex + ": " + ec.message(), ec.value());
  return {};
}

}  // namespace wick::functions
