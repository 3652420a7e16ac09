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

// Where code is kept: the seam for a store shared by more than one host (an
// S3-compatible one keeps the zips and unpacks trees into a local cache on
// first use; the trees must be local, as sandboxes bind them read-only).
class CodeStore {
 public:
  virtual ~CodeStore() = default;
  // Unpacks a zip safely (all or nothing) and keeps it. An archive that fails
  // the checks is an error naming the entry and the reason.
  virtual Result<StoredCode> put(const std::string& zip_bytes,
                                 const images::ExtractOptions& options) const = 0;
  // The zip as uploaded (GetFunction's Code.Location serves it).
  virtual std::string zipPath(const std::string& sha256_hex) const = 0;
  // The unpacked tree, on this host.
  virtual std::string treePath(const std::string& sha256_hex) const = 0;
  // For code no function references any more.
  virtual Status remove(const std::string& sha256_hex) const = 0;
};

// The embedded default: `<root>/zips/<hex>.zip` and `<root>/trees/<hex>/`.
class LocalCodeStore final : public CodeStore {
 public:
  // `tree_subdir`: unpack each zip under <tree>/<subdir> (layers: "opt", so
  // that their trees stack as overlay layers of a root).
  explicit LocalCodeStore(std::string root, std::string tree_subdir = "")
      : root_(std::move(root)), tree_subdir_(std::move(tree_subdir)) {}
  // Creates the directories and removes interrupted writes of an earlier run.
  Status prepare() const;

  Result<StoredCode> put(const std::string& zip_bytes,
                         const images::ExtractOptions& options) const override;
  std::string zipPath(const std::string& sha256_hex) const override;
  std::string treePath(const std::string& sha256_hex) const override;
  Status remove(const std::string& sha256_hex) const override;

 private:
  // Unpacks into `tree` (staged, renamed in); the bytes of file content.
  Result<int64_t> unpackTree(const std::string& zip_bytes, const std::string& tree,
                             const images::ExtractOptions& options) const;

  std::string root_;
  std::string tree_subdir_;
};

}  // namespace wick::functions
