// libFuzzer: hostile bytes as an image's JSON documents (OCI index, manifest,
// config; docker-archive's manifest.json) and image references. Each parser
// must refuse cleanly or give values the rest of the importer relies on:
// valid digests, a runnable argv with an absolute working directory.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "images/oci.h"
#include "images/reference.h"
#include "images/run_config.h"

namespace {

using namespace wick::images;

void checkDigest(const Digest& digest) {
  // What a parser accepted must parse again to the same digest.
  auto again = Digest::parse(digest.str());
  if (!again || again->str() != digest.str()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  if (auto index = parseIndex(json))
    for (const auto& manifest : index->manifests)
      checkDigest(manifest.digest);
  if (auto manifest = parseManifest(json)) {
    checkDigest(manifest->config.digest);
    for (const auto& layer : manifest->layers)
      checkDigest(layer.digest);
  }
  if (auto config = parseConfig(json)) {
    for (const auto& diff_id : config->diff_ids)
      checkDigest(diff_id);
    if (auto run = resolveRunConfig(config->container, {})) {
      if (run->argv.empty() || run->cwd.empty() || run->cwd.front() != '/') std::abort();
    }
  }
  if (auto entries = parseDockerManifest(json)) {
    for (const auto& entry : *entries)
      if (entry.config.empty()) std::abort();
  }
  (void)parseRef(json);
  return 0;
}
