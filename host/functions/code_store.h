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
};

class CodeStore {
 public:
  explicit CodeStore(std::string root) : root_(std::move(root)) {}
  Status prepare() const;

  // Unpacks a zip safely (all or nothing) and keeps it. An archive that fails
  // the checks is an error naming the entry and the reason.
  Result<StoredCode> put(const std::string& zip_bytes, const images::ExtractOptions& options) const;
  std::string zipPath(const std::string& sha256_hex) const;
  std::string treePath(const std::string& sha256_hex) const;
  // For code no function references any more.
  Status remove(const std::string& sha256_hex) const;

 private:
  std::string root_;
};

}  // namespace wick::functions
