// The image store an operator or wickd opens on its state directory:
//
//   <root>/blobs/sha256/<hex>     manifests and configs (and, later, function zips)
//   <root>/layers/sha256/<hex>/   unpacked layers by diff_id, shared, read-only
//   <root>/images/<name>/<tag>.json  names
//   <root>/tmp/                   staging; leftovers are swept by gc
//   <root>/lock                   imports share it, rm and gc take it alone
//
// Import verifies everything before it names anything: a failed import
// leaves no record and no partly unpacked layer (layers that were complete
// and verified stay until gc, as another import may already use them).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "images/blob_store.h"
#include "images/image_index.h"
#include "images/layer_store.h"
#include "images/oci.h"

namespace wick::images {

struct ImportProgress {
  uint64_t bytes_done = 0;   // layer bytes read, as stored in the image
  uint64_t bytes_total = 0;  // of the layers to read (reused layers are not read)
  size_t layers_done = 0;    // reused ones included
  size_t layers_total = 0;
};

struct ImportOptions {
  std::string ref;  // which image of several (RepoTags or org.opencontainers.image.ref.name)
  std::string tag;  // the name:tag wick gives it; default: the image's own name
  // Lambda's limit for an image, all layers uncompressed (decompression bombs).
  uint64_t max_image_bytes = 10ull << 30;
  Platform platform{"linux", "amd64", ""};
  // Called every few MiB and after each layer; the CLI draws a bar with it.
  std::function<void(const ImportProgress&)> progress;
};

// What the caller (wickd: functions, layers) holds on to besides the image
// names: gc and rm keep these.
struct References {
  std::set<Digest> images;  // manifest digests: their config, manifest and layers stay
  std::set<Digest> layers;  // diff_ids
  std::set<Digest> blobs;   // any blob (function zips)
};

struct GcReport {
  std::vector<Digest> layers_removed;
  std::vector<Digest> blobs_removed;
};

class ImageStore {
 public:
  static Result<ImageStore> open(const std::string& root);

  Result<ImageRecord> import(const std::string& path, const ImportOptions& options = {});
  Result<std::vector<ImageRecord>> list() const;
  // `name[:tag]` or `name@sha256:...`.
  Result<ImageRecord> inspect(std::string_view ref) const;
  // Drops the name; then the image's layers and blobs that no other name and
  // nothing in `keep` uses.
  Result<GcReport> remove(std::string_view ref, const References& keep = {});
  // Every layer and blob that no name and nothing in `keep` uses, and staging
  // leftovers. `keep.blobs` must list every blob the caller stored itself.
  Result<GcReport> gc(const References& keep = {});

  // The image's layer trees, bottom first (an overlay lowerdir= lists them
  // top first). An error if one is missing.
  Result<std::vector<std::string>> layerPaths(const ImageRecord& image) const;
  // The diff_ids of an image by manifest digest, read from the blob store
  // (an image a function still uses after its name was removed).
  Result<std::vector<Digest>> diffIdsOf(const Digest& manifest) const;

  const std::string& root() const { return root_; }
  const BlobStore& blobs() const { return blobs_; }
  const LayerStore& layers() const { return layers_; }
  const ImageIndex& index() const { return index_; }

 private:
  explicit ImageStore(std::string root);
  Result<std::pair<std::set<Digest>, std::set<Digest>>> referenced(const References& keep) const;

  std::string root_;
  BlobStore blobs_;
  LayerStore layers_;
  ImageIndex index_;
};

}  // namespace wick::images
