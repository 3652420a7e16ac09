// Unpacked image layers, one read-only tree per layer keyed by its diff_id
// (the digest of the uncompressed tar): `<root>/layers/sha256/<hex>/`. A layer
// is unpacked once and shared by every image that has it; whiteouts are in
// overlayfs's own form, so the trees stack as overlay lowerdirs (bottom first)
// with no further work. Read-only by convention: nothing writes to a tree once
// it is renamed into place, and `<root>/layers` is 0700.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "images/byte_source.h"
#include "images/digest.h"

namespace wick::images {

// What the image says the layer is; every field given is checked.
struct LayerExpectation {
  Digest diff_id;                     // sha256 of the uncompressed tar (config rootfs.diff_ids)
  std::optional<Digest> blob_digest;  // sha256 of the bytes as stored (the manifest descriptor)
  std::optional<uint64_t> blob_size;
};

struct LayerUnpackOptions {
  // Bound on the uncompressed tar stream (decompression bombs stop here).
  uint64_t max_unpacked_bytes = 10ull << 30;
  uint64_t max_entries = 1'000'000;
  // Called as blob bytes are read, with the count so far.
  std::function<void(uint64_t blob_bytes)> on_bytes;
};

struct LayerInfo {
  Digest diff_id;
  Digest blob_digest;           // as read (equal to diff_id for an uncompressed layer)
  uint64_t blob_size = 0;       // bytes read from the blob
  uint64_t unpacked_bytes = 0;  // bytes of file content in the tree
  bool reused = false;          // already in the store: nothing was read
};

class LayerStore {
 public:
  explicit LayerStore(std::string root);
  Status init() const;

  bool has(const Digest& diff_id) const;
  // The tree, to be used as an overlay lowerdir.
  std::string path(const Digest& diff_id) const;
  // Bytes of file content of a stored layer (recorded at unpack time).
  Result<uint64_t> unpackedBytes(const Digest& diff_id) const;

  // Reads `blob` (a tar, gzip- or zstd-compressed or not: sniffed by magic,
  // since docker-archive layers carry no media type) and unpacks it, safely
  // (archive.h) and with whiteouts converted. The blob digest, size and
  // diff_id are checked before the tree is renamed into place; on any error
  // nothing is left. A layer already stored is not read again.
  Result<LayerInfo> unpack(ByteSource& blob, const LayerExpectation& expect,
                           const LayerUnpackOptions& options = {}) const;

  Status remove(const Digest& diff_id) const;
  Result<std::vector<Digest>> list() const;
  // Staging leftovers of a crashed unpack (`<root>/tmp/layer*`).
  Status removeLeftovers() const;

 private:
  std::string root_;
  std::string dir_;
  std::string tmp_;
};

}  // namespace wick::images
