// Reading an image's documents out of a source and deciding what to import:
// which image (ref), which platform, which layers, every document verified
// against its digest. Nothing is written here; image_store.cc does that.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "images/image_source.h"
#include "images/oci.h"
#include "images/reference.h"

namespace wick::images {

struct PlannedLayer {
  std::string member;  // path in the source
  std::optional<Digest> blob_digest;
  std::optional<uint64_t> blob_size;
  std::string media_type;
  Digest diff_id;
};

struct ImportPlan {
  std::string format;    // "oci-layout", "oci-archive", "docker-archive"
  std::string manifest;  // bytes (synthesized for docker-archive)
  Digest manifest_digest;
  std::string config;  // bytes
  Digest config_digest;
  ImageConfig image_config;
  std::vector<PlannedLayer> layers;  // bottom first
  std::vector<std::string> names;    // names the image carries (RepoTags, ref.name)
};

// `want`: the image to pick when the source holds several; `host`: the
// platform to pick from an index and to demand of the config.
Result<ImportPlan> planImport(ImageSource& source, const std::optional<ImageRef>& want,
                              const Platform& host);

}  // namespace wick::images
