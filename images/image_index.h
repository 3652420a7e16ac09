// The images wick knows by name: one small JSON record per `name:tag` under
// `<root>/images/<name, '/' escaped>/<tag>.json`, written whole (tmp + rename).
// A record is a name pointing at a manifest digest, with what `inspect` shows;
// the manifest and config themselves are blobs in the blob store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "images/digest.h"
#include "images/oci.h"
#include "images/reference.h"
#include "images/run_config.h"

namespace wick::images {

struct LayerRecord {
  Digest diff_id;      // the layer store's key
  Digest blob_digest;  // as the image stores it (compressed or not)
  std::string media_type;
  uint64_t blob_size = 0;
  uint64_t unpacked_bytes = 0;
};

struct ImageRecord {
  std::string name;
  std::string tag;
  Digest digest;         // of the manifest (synthesized for docker-archive)
  Digest config_digest;  // docker's "image ID"
  Platform platform;
  std::string source;               // "oci-layout", "oci-archive", "docker-archive"
  std::string imported_at;          // RFC 3339, UTC
  std::vector<LayerRecord> layers;  // bottom first
  uint64_t size = 0;                // unpacked bytes of all layers
  ContainerConfig config;

  std::string ref() const { return name + ":" + tag; }
};

std::string toJson(const ImageRecord& record, int indent = -1);
Result<ImageRecord> imageRecordFromJson(std::string_view text);

class ImageIndex {
 public:
  explicit ImageIndex(std::string root);
  Status init() const;

  // Creates or replaces the record of `record.ref()`.
  Status put(const ImageRecord& record) const;
  // By name:tag, or name@digest; nullopt when there is none.
  Result<std::optional<ImageRecord>> get(const ImageRef& ref) const;
  Result<std::vector<ImageRecord>> list() const;
  // ENOENT when there is no such name:tag.
  Status remove(const ImageRef& ref) const;

 private:
  std::string recordPath(const std::string& name, const std::string& tag) const;
  std::string dir_;
  std::string tmp_;
};

}  // namespace wick::images
