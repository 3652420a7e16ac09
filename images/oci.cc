#include "images/oci.h"

#include <nlohmann/json.hpp>

namespace wick::images {

using nlohmann::json;

namespace {

Result<json> parseJson(std::string_view text, std::string_view what) {
  if (text.size() > kMaxJsonBytes)
    return Error(std::string(what) + ": larger than " + std::to_string(kMaxJsonBytes) + " bytes",
                 EFBIG);
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Error(std::string(what) + ": not a JSON object", EINVAL);
  return doc;
}

Result<std::string> optionalString(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Error(std::string("'") + key + "' is not a string", EINVAL);
  return it->get<std::string>();
}

// null or absent -> nullopt; otherwise a list of strings.
Result<std::optional<std::vector<std::string>>> optionalStrings(const json& object,
                                                                const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  if (!it->is_array()) return Error(std::string("'") + key + "' is not a list", EINVAL);
  std::vector<std::string> out;
  for (const auto& item : *it) {
    if (!item.is_string()) return Error(std::string("'") + key + "' has a non-string", EINVAL);
    out.push_back(item.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Status checkMediaType(const json& doc, std::string_view expected) {
  auto own = optionalString(doc, "mediaType");
  if (!own) return std::move(own).error();
  // The mediaType field is optional (umoci omits it); when both are known
  // they must agree (CVE-2021-41190).
  if (!own->empty() && !expected.empty() && *own != expected)
    return Error(
        "mediaType '" + *own + "' differs from the descriptor's '" + std::string(expected) + "'",
        EINVAL);
  return {};
}

Result<Descriptor> parseDescriptor(const json& item) {
  if (!item.is_object()) return Error("descriptor is not an object", EINVAL);
  Descriptor d;
  auto type = optionalString(item, "mediaType");
  if (!type) return std::move(type).error();
  d.media_type = *type;
  auto digest_text = optionalString(item, "digest");
  if (!digest_text) return std::move(digest_text).error();
  auto digest = Digest::parse(*digest_text);
  if (!digest) return std::move(digest).error().context("descriptor");
  d.digest = *digest;
  auto size = item.find("size");
  if (size == item.end() || !size->is_number_unsigned())
    return Error("descriptor " + d.digest.str() + ": size missing or negative", EINVAL);
  d.size = size->get<uint64_t>();
  if (auto platform = item.find("platform"); platform != item.end() && platform->is_object()) {
    Platform p;
    auto os = optionalString(*platform, "os");
    auto arch = optionalString(*platform, "architecture");
    auto variant = optionalString(*platform, "variant");
    if (!os || !arch || !variant) return Error("descriptor platform is malformed", EINVAL);
    p.os = *os;
    p.architecture = *arch;
    p.variant = *variant;
    d.platform = p;
  }
  if (auto notes = item.find("annotations"); notes != item.end() && notes->is_object())
    for (const auto& [key, value] : notes->items())
      if (value.is_string()) d.annotations[key] = value.get<std::string>();
  return d;
}

}  // namespace

bool isIndexMediaType(std::string_view type) {
  return type == media::kOciIndex || type == media::kDockerList;
}
bool isManifestMediaType(std::string_view type) {
  return type == media::kOciManifest || type == media::kDockerManifest;
}
bool isConfigMediaType(std::string_view type) {
  return type == media::kOciConfig || type == media::kDockerConfig;
}
bool isLayerMediaType(std::string_view type) {
  for (std::string_view prefix : {"application/vnd.oci.image.layer.v1.tar",
                                  "application/vnd.oci.image.layer.nondistributable.v1.tar",
                                  "application/vnd.docker.image.rootfs.diff.tar",
                                  "application/vnd.docker.image.rootfs.foreign.diff.tar"}) {
    if (!type.starts_with(prefix)) continue;
    std::string_view rest = type.substr(prefix.size());
    if (rest.empty() || rest == "+gzip" || rest == "+zstd" || rest == ".gzip") return true;
  }
  return false;
}

Result<Index> parseIndex(std::string_view text, std::string_view expected_media_type) {
  auto doc = parseJson(text, "index");
  if (!doc) return std::move(doc).error();
  WICK_TRY(checkMediaType(*doc, expected_media_type), "index");
  if (doc->contains("layers") || doc->contains("config"))
    return Error("index: has 'layers' or 'config', as a manifest would (ambiguous)", EINVAL);
  Index index;
  auto manifests = doc->find("manifests");
  // docker 25 wrote `"manifests": null` (moby#47210): an empty index, said so below.
  if (manifests == doc->end() || manifests->is_null()) return index;
  if (!manifests->is_array()) return Error("index: 'manifests' is not a list", EINVAL);
  for (const auto& item : *manifests) {
    auto d = parseDescriptor(item);
    if (!d) return std::move(d).error().context("index");
    index.manifests.push_back(std::move(*d));
  }
  return index;
}

Result<Manifest> parseManifest(std::string_view text, std::string_view expected_media_type) {
  auto doc = parseJson(text, "manifest");
  if (!doc) return std::move(doc).error();
  WICK_TRY(checkMediaType(*doc, expected_media_type), "manifest");
  if (doc->contains("manifests"))
    return Error("manifest: has 'manifests', as an index would (ambiguous)", EINVAL);
  auto version = doc->find("schemaVersion");
  if (version == doc->end() || *version != 2)
    return Error("manifest: schemaVersion is not 2", EINVAL);
  Manifest manifest;
  auto config = doc->find("config");
  if (config == doc->end()) return Error("manifest: no config", EINVAL);
  auto c = parseDescriptor(*config);
  if (!c) return std::move(c).error().context("manifest config");
  if (!isConfigMediaType(c->media_type))
    return Error("manifest: config media type '" + c->media_type +
                     "' is not an image config (an artifact, not an image)",
                 EINVAL);
  manifest.config = std::move(*c);
  auto layers = doc->find("layers");
  if (layers == doc->end() || !layers->is_array())
    return Error("manifest: 'layers' is missing or not a list", EINVAL);
  for (const auto& item : *layers) {
    auto d = parseDescriptor(item);
    if (!d) return std::move(d).error().context("manifest layer");
    if (!isLayerMediaType(d->media_type))
      return Error("manifest: layer " + d->digest.str() + " has unsupported media type '" +
                       d->media_type + "'",
                   EINVAL);
    manifest.layers.push_back(std::move(*d));
  }
  return manifest;
}

Result<ImageConfig> parseConfig(std::string_view text) {
  auto doc = parseJson(text, "config");
  if (!doc) return std::move(doc).error();
  ImageConfig config;
  auto os = optionalString(*doc, "os");
  auto arch = optionalString(*doc, "architecture");
  auto variant = optionalString(*doc, "variant");
  if (!os || !arch || !variant) return Error("config: os/architecture malformed", EINVAL);
  config.platform = {*os, *arch, *variant};
  auto rootfs = doc->find("rootfs");
  if (rootfs == doc->end() || !rootfs->is_object()) return Error("config: no rootfs", EINVAL);
  // optionalString, not value(): a "type" that is not a string must be an
  // error, not an exception (found by fuzz_oci_json).
  auto type = optionalString(*rootfs, "type");
  if (!type || *type != "layers") return Error("config: rootfs.type is not \"layers\"", EINVAL);
  auto diff_ids = rootfs->find("diff_ids");
  if (diff_ids == rootfs->end() || !diff_ids->is_array())
    return Error("config: rootfs.diff_ids is not a list", EINVAL);
  for (const auto& item : *diff_ids) {
    if (!item.is_string()) return Error("config: a diff_id is not a string", EINVAL);
    auto digest = Digest::parse(item.get<std::string>());
    if (!digest) return std::move(digest).error().context("config diff_ids");
    config.diff_ids.push_back(*digest);
  }
  auto inner = doc->find("config");
  if (inner != doc->end() && inner->is_object()) {
    auto entrypoint = optionalStrings(*inner, "Entrypoint");
    auto cmd = optionalStrings(*inner, "Cmd");
    auto env = optionalStrings(*inner, "Env");
    auto dir = optionalString(*inner, "WorkingDir");
    auto user = optionalString(*inner, "User");
    if (!entrypoint) return std::move(entrypoint).error().context("config");
    if (!cmd) return std::move(cmd).error().context("config");
    if (!env) return std::move(env).error().context("config");
    if (!dir) return std::move(dir).error().context("config WorkingDir");
    if (!user) return std::move(user).error().context("config User");
    config.container.entrypoint = *entrypoint;
    config.container.cmd = *cmd;
    if (*env) config.container.env = **env;
    config.container.working_dir = *dir;
    config.container.user = *user;
  }
  return config;
}

Result<std::vector<DockerManifestEntry>> parseDockerManifest(std::string_view text) {
  if (text.size() > kMaxJsonBytes) return Error("manifest.json: too large", EFBIG);
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) return Error("manifest.json: not a JSON list", EINVAL);
  std::vector<DockerManifestEntry> entries;
  for (const auto& item : doc) {
    if (!item.is_object()) return Error("manifest.json: an entry is not an object", EINVAL);
    DockerManifestEntry entry;
    auto config = optionalString(item, "Config");
    if (!config || config->empty()) return Error("manifest.json: an entry has no Config", EINVAL);
    entry.config = *config;
    auto tags = optionalStrings(item, "RepoTags");  // may be null
    if (!tags) return std::move(tags).error().context("manifest.json");
    if (*tags) entry.repo_tags = **tags;
    auto layers = optionalStrings(item, "Layers");
    if (!layers || !*layers) return Error("manifest.json: an entry has no Layers list", EINVAL);
    entry.layers = **layers;
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string synthesizeManifest(const Digest& config_digest, uint64_t config_size,
                               const std::vector<Digest>& diff_ids,
                               const std::vector<uint64_t>& layer_sizes) {
  json layers = json::array();
  for (size_t i = 0; i < diff_ids.size(); ++i)
    layers.push_back({{"mediaType", media::kOciLayerTar},
                      {"digest", diff_ids[i].str()},
                      {"size", i < layer_sizes.size() ? layer_sizes[i] : 0}});
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", media::kOciManifest},
      {"config",
       {{"mediaType", media::kOciConfig}, {"digest", config_digest.str()}, {"size", config_size}}},
      {"layers", layers}};
  return manifest.dump();
}

}  // namespace wick::images
