#include "images/importer.h"

#include <algorithm>

namespace wick::images {

namespace {

constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdName = "io.containerd.image.name";
constexpr int kMaxIndexDepth = 4;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

std::string blobPath(const Digest& digest) {
  return "blobs/sha256/" + digest.hex();
}

// A blob named by a descriptor: size first, then digest.
Result<std::string> readBlob(ImageSource& source, const Descriptor& d) {
  if (d.size > kMaxJsonBytes)
    return Error("blob " + d.digest.str() + ": descriptor size " + std::to_string(d.size) +
                     " is too large for a JSON document",
                 EFBIG);
  auto bytes = source.readSmall(blobPath(d.digest), kMaxJsonBytes);
  if (!bytes) return std::move(bytes).error().context("blob " + d.digest.str());
  if (!*bytes) return Error("blob " + d.digest.str() + " is missing from the image", ENOENT);
  if ((*bytes)->size() != d.size)
    return Error("blob " + d.digest.str() + " is " + std::to_string((*bytes)->size()) +
                     " bytes, its descriptor says " + std::to_string(d.size),
                 EINVAL);
  const Digest actual = Digest::of(**bytes);
  if (actual != d.digest)
    return Error("blob " + d.digest.str() + ": digest mismatch (content is " + actual.str() + ")",
                 EINVAL);
  return std::move(**bytes);
}

Status checkPlatform(const ImageConfig& config, const Platform& host) {
  if (config.platform.os != host.os || config.platform.architecture != host.architecture)
    return Error("image is " + config.platform.str() + "; this host runs " + host.str(), ENOEXEC);
  return {};
}

bool isAttestation(const Descriptor& d) {
  auto it = d.annotations.find("vnd.docker.reference.type");
  if (it != d.annotations.end() && it->second == "attestation-manifest") return true;
  return d.platform && d.platform->os == "unknown" && d.platform->architecture == "unknown";
}

std::string nameOf(const Descriptor& d) {
  for (auto key : {kRefName, kContainerdName})
    if (auto it = d.annotations.find(std::string(key)); it != d.annotations.end())
      return it->second;
  return "";
}

// Manifests reachable from `d` (nested indexes followed), in index order.
Status collectManifests(ImageSource& source, const Descriptor& d, int depth,
                        std::vector<Descriptor>& out) {
  if (isManifestMediaType(d.media_type)) {
    out.push_back(d);
    return {};
  }
  if (!isIndexMediaType(d.media_type)) return {};  // unknown types are skipped (image-layout.md)
  if (depth >= kMaxIndexDepth)
    return Error("indexes nested more than " + std::to_string(kMaxIndexDepth) + " deep", ELOOP);
  auto bytes = readBlob(source, d);
  if (!bytes) return std::move(bytes).error();
  auto index = parseIndex(*bytes, d.media_type);
  if (!index) return std::move(index).error().context("index " + d.digest.str());
  for (const auto& child : index->manifests)
    WICK_TRY(collectManifests(source, child, depth + 1, out), "index " + d.digest.str());
  return {};
}

Result<ImportPlan> planOci(ImageSource& source, const std::optional<ImageRef>& want,
                           const Platform& host) {
  auto layout = source.readSmall("oci-layout", 4096);
  if (!layout) return std::move(layout).error();
  auto index_bytes = source.readSmall("index.json", kMaxJsonBytes);
  if (!index_bytes) return std::move(index_bytes).error();
  if (!*index_bytes) return Error("OCI layout without index.json", EINVAL);
  auto index = parseIndex(**index_bytes);
  if (!index) return std::move(index).error().context("index.json");

  std::vector<const Descriptor*> tops;
  std::vector<std::string> all_names;
  for (const auto& d : index->manifests) {
    if (!isManifestMediaType(d.media_type) && !isIndexMediaType(d.media_type)) continue;
    const std::string name = nameOf(d);
    if (!name.empty() && std::find(all_names.begin(), all_names.end(), name) == all_names.end())
      all_names.push_back(name);
    if (want && !refMatches(name, *want)) continue;
    tops.push_back(&d);
  }
  if (want && tops.empty())
    return Error("no image named '" + want->str() + "' (names: " + join(all_names) + ")", ENOENT);
  if (!want && all_names.size() > 1)
    return Error("the layout holds several images (" + join(all_names) + "): choose one by ref",
                 EINVAL);
  if (tops.empty()) return Error("index.json lists no image", EINVAL);

  std::vector<Descriptor> manifests;
  for (const Descriptor* top : tops) {
    std::vector<Descriptor> found;
    WICK_TRY(collectManifests(source, *top, 0, found), "index.json");
    // Names live on index.json's descriptors; carry them down.
    for (auto& d : found)
      if (nameOf(d).empty() && !nameOf(*top).empty())
        d.annotations[std::string(kRefName)] = nameOf(*top);
    manifests.insert(manifests.end(), found.begin(), found.end());
  }
  const Descriptor* chosen = nullptr;
  std::vector<std::string> platforms;
  for (const auto& d : manifests) {
    if (isAttestation(d)) continue;
    // "If multiple manifests match, the first SHOULD be used"; no platform = any.
    if (!d.platform ||
        (d.platform->os == host.os && d.platform->architecture == host.architecture)) {
      chosen = &d;
      break;
    }
    platforms.push_back(d.platform->str());
  }
  if (!chosen)
    return Error("no " + host.str() + " image in the index (found: " + join(platforms) + ")",
                 ENOENT);

  ImportPlan plan;
  plan.format = source.kind() == "oci-layout" ? "oci-layout" : "oci-archive";
  auto manifest_bytes = readBlob(source, *chosen);
  if (!manifest_bytes) return std::move(manifest_bytes).error().context("manifest");
  auto manifest = parseManifest(*manifest_bytes, chosen->media_type);
  if (!manifest) return std::move(manifest).error().context("manifest " + chosen->digest.str());
  plan.manifest = std::move(*manifest_bytes);
  plan.manifest_digest = chosen->digest;
  auto config_bytes = readBlob(source, manifest->config);
  if (!config_bytes) return std::move(config_bytes).error().context("config");
  auto config = parseConfig(*config_bytes);
  if (!config) return std::move(config).error().context("config " + manifest->config.digest.str());
  WICK_TRY(checkPlatform(*config, host), "config " + manifest->config.digest.str());
  if (config->diff_ids.size() != manifest->layers.size())
    return Error("config has " + std::to_string(config->diff_ids.size()) + " diff_ids, manifest " +
                     std::to_string(manifest->layers.size()) + " layers",
                 EINVAL);
  plan.config = std::move(*config_bytes);
  plan.config_digest = manifest->config.digest;
  plan.image_config = std::move(*config);
  for (size_t i = 0; i < manifest->layers.size(); ++i) {
    const Descriptor& l = manifest->layers[i];
    plan.layers.push_back(
        {blobPath(l.digest), l.digest, l.size, l.media_type, plan.image_config.diff_ids[i]});
  }
  if (const std::string name = nameOf(*chosen); !name.empty()) plan.names.push_back(name);
  return plan;
}

// The hex a docker-archive file name promises: "<hex>.json", "blobs/sha256/<hex>".
std::optional<Digest> digestFromPath(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  if (base.ends_with(".json") || base.ends_with(".tar")) base = base.substr(0, base.rfind('.'));
  if (!isSha256Hex(base)) return std::nullopt;
  if (path.starts_with("blobs/sha256/") || path.find('/') == std::string::npos)
    return Digest::fromHex(base);
  return std::nullopt;
}

Result<ImportPlan> planDocker(ImageSource& source, std::string_view manifest_json,
                              const std::optional<ImageRef>& want, const Platform& host) {
  auto entries = parseDockerManifest(manifest_json);
  if (!entries) return std::move(entries).error();
  const DockerManifestEntry* chosen = nullptr;
  std::vector<std::string> all_tags;
  for (const auto& entry : *entries) {
    all_tags.insert(all_tags.end(), entry.repo_tags.begin(), entry.repo_tags.end());
    if (!chosen && want &&
        std::any_of(entry.repo_tags.begin(), entry.repo_tags.end(),
                    [&](const std::string& tag) { return refMatches(tag, *want); }))
      chosen = &entry;
  }
  if (want && !chosen)
    return Error("no image tagged '" + want->str() + "' (RepoTags: " + join(all_tags) + ")",
                 ENOENT);
  if (!want) {
    if (entries->size() != 1)
      return Error("the archive holds " + std::to_string(entries->size()) + " images (" +
                       join(all_tags) + "): choose one by ref",
                   EINVAL);
    chosen = &entries->front();
  }

  ImportPlan plan;
  plan.format = "docker-archive";
  auto config_bytes = source.readSmall(chosen->config, kMaxJsonBytes);
  if (!config_bytes) return std::move(config_bytes).error().context("config " + chosen->config);
  if (!*config_bytes) return Error("config " + chosen->config + " is missing", ENOENT);
  plan.config = std::move(**config_bytes);
  plan.config_digest = Digest::of(plan.config);
  if (auto promised = digestFromPath(chosen->config); promised && *promised != plan.config_digest)
    return Error("config " + chosen->config + ": digest mismatch (content is " +
                     plan.config_digest.str() + ")",
                 EINVAL);
  auto config = parseConfig(plan.config);
  if (!config) return std::move(config).error().context("config " + chosen->config);
  WICK_TRY(checkPlatform(*config, host), "config " + chosen->config);
  if (config->diff_ids.size() != chosen->layers.size())
    return Error("config has " + std::to_string(config->diff_ids.size()) +
                     " diff_ids, manifest.json " + std::to_string(chosen->layers.size()) +
                     " layers",
                 EINVAL);
  plan.image_config = std::move(*config);
  std::vector<uint64_t> sizes;
  for (size_t i = 0; i < chosen->layers.size(); ++i) {
    const std::string& member = chosen->layers[i];
    PlannedLayer layer{member, std::nullopt, std::nullopt,
                       "application/vnd.docker.image.rootfs.diff.tar",
                       plan.image_config.diff_ids[i]};
    // Only docker >= 25 names layers by their blob digest; legacy names
    // (`<diffid>.tar`, `<v1id>/layer.tar`) are checked by diff_id alone.
    if (member.starts_with("blobs/sha256/")) layer.blob_digest = digestFromPath(member);
    sizes.push_back(source.size(member).value_or(0));
    plan.layers.push_back(std::move(layer));
  }
  plan.manifest =
      synthesizeManifest(plan.config_digest, plan.config.size(), plan.image_config.diff_ids, sizes);
  plan.manifest_digest = Digest::of(plan.manifest);
  plan.names = chosen->repo_tags;
  return plan;
}

}  // namespace

Result<ImportPlan> planImport(ImageSource& source, const std::optional<ImageRef>& want,
                              const Platform& host) {
  // docker >= 25 writes both; its manifest.json is the reliable one
  // (moby#47065, #47210, #51389).
  auto docker_manifest = source.readSmall("manifest.json", kMaxJsonBytes);
  if (!docker_manifest) return std::move(docker_manifest).error();
  if (*docker_manifest) return planDocker(source, **docker_manifest, want, host);
  if (auto layout = source.size("oci-layout"); layout) return planOci(source, want, host);
  if (source.size("repositories"))
    return Error("a docker v1 image (only 'repositories'): not supported", EINVAL);
  return Error(
      "neither an OCI layout (oci-layout, index.json) nor a docker-archive (manifest.json)",
      EINVAL);
}

}  // namespace wick::images
