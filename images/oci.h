// The JSON documents of OCI and docker images, parsed strictly from untrusted
// bytes: index, manifest, config, and docker-archive's manifest.json.
// reference/oci.md 1 and 2 (media types, CVE-2021-41190 ambiguity, digests).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "images/digest.h"
#include "images/run_config.h"

namespace wick::images {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
}  // namespace media

bool isIndexMediaType(std::string_view type);
bool isManifestMediaType(std::string_view type);
bool isConfigMediaType(std::string_view type);
bool isLayerMediaType(std::string_view type);

// The one JSON document wick reads at most (a config with a long history).
inline constexpr uint64_t kMaxJsonBytes = 4 << 20;

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string str() const {
    return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
  }
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  uint64_t size = 0;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
};

struct Index {
  std::vector<Descriptor> manifests;
};

struct Manifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct ImageConfig {
  Platform platform;
  ContainerConfig container;
  std::vector<Digest> diff_ids;
};

// One entry of docker-archive's manifest.json.
struct DockerManifestEntry {
  std::string config;  // path inside the archive
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;  // paths inside the archive
};

// `expected_media_type` is the referring descriptor's ("" when unknown); the
// document's own mediaType must agree with it.
Result<Index> parseIndex(std::string_view json, std::string_view expected_media_type = "");
Result<Manifest> parseManifest(std::string_view json, std::string_view expected_media_type = "");
Result<ImageConfig> parseConfig(std::string_view json);
Result<std::vector<DockerManifestEntry>> parseDockerManifest(std::string_view json);

// An OCI manifest for an image that came without one (docker-archive): the
// config and the layers as uncompressed tars named by their diff_ids.
std::string synthesizeManifest(const Digest& config_digest, uint64_t config_size,
                               const std::vector<Digest>& diff_ids,
                               const std::vector<uint64_t>& layer_sizes);

}  // namespace wick::images
