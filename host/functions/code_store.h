// Function code, content-addressed by the zip's sha256: the zip itself (served
// back by GetFunction) and its unpacked tree (bound read-only at /var/task).
// Functions with the same zip share both.
#pragma once

#include <string>

#include "common/error.h"
#include "images/archive.h"

namespace wick::functions {

struct StoredCode {
  std::string sha256_hex;
  std::string sha256_base64;  // Lambda's CodeSha256
  int64_t size = 0;           // zipped bytes (CodeSize)
  int64_t unpacked_size = 0;  // bytes once unzipped
};

class CodeStore {
 public:
  // `tree_subdir`: unpack each zip under <tree>/<subdir> (layers: "opt", so
  // that their trees stack as overlay layers of a root).
  explicit CodeStore(std::string root, std::string tree_subdir = "")
      : root_(std::move(root)), tree_subdir_(std::move(tree_subdir)) {}
  Status prepare() const;

  // Unpacks a zip safely (all or nothing) and keeps it. An archive that fails
  // the checks is an error naming the entry and the reason.
  Result<StoredCode> put(const std::string& zip_bytes, const images::ExtractOptions& options) const;
  std::string zipPath(const std::string& sha256_hex) const;
  std::string treePath(const std::string& sha256_hex) const;
  // For code no function references any more.
  Status remove(const std::string& sha256_hex) const;

 private:
  // Unpacks into `tree` (staged, renamed in); the bytes of file content.
  Result<int64_t> unpackTree(const std::string& zip_bytes, const std::string& tree,
                             const images::ExtractOptions& options) const;

  std::string root_;
  std::string tree_subdir_;
};

}  // namespace wick::functions
