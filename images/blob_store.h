// A content-addressed store of blobs by sha256: `<root>/blobs/sha256/<hex>`.
// Generic on purpose: image manifests and configs today, function zips later.
// A blob enters only whole and verified (written to `<root>/tmp`, digest and
// size checked, fsynced, renamed into place), so a reader never sees half of one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "images/byte_source.h"
#include "images/digest.h"

namespace wick::images {

class BlobStore {
 public:
  explicit BlobStore(std::string root);
  // Creates the directories; idempotent.
  Status init() const;

  bool has(const Digest& digest) const;
  std::string path(const Digest& digest) const;

  // Streams `source` in. With `expected`, a digest mismatch is an error and
  // nothing is stored; with `expected_size`, so is a size mismatch (checked
  // as the bytes come, so an oversized stream stops early).
  Result<Digest> put(ByteSource& source, const std::optional<Digest>& expected = std::nullopt,
                     std::optional<uint64_t> expected_size = std::nullopt) const;
  Result<Digest> putBytes(std::string_view bytes,
                          const std::optional<Digest>& expected = std::nullopt) const;
  // The whole blob, refused if larger than `max_bytes`.
  Result<std::string> read(const Digest& digest, uint64_t max_bytes = 16 << 20) const;
  // Removing a blob that is not there is not an error.
  Status remove(const Digest& digest) const;
  Result<std::vector<Digest>> list() const;

 private:
  std::string root_;
  std::string dir_;
  std::string tmp_;
};

}  // namespace wick::images
