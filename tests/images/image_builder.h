// Test images built for real, offline: layer tarballs written with libarchive
// (tar, gzip, zstd), digests with OpenSSL, OCI layout / oci-archive /
// docker-archive JSON by hand.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "images/digest.h"

namespace wick::images::testing {

struct TarEntry {
  enum Kind { kFile, kDir, kSymlink, kHardlink, kCharDevice, kFifo };
  std::string path;
  Kind kind = kFile;
  std::string content{};
  mode_t mode = 0644;
  std::string link{};  // symlink or hard link target
};

inline TarEntry file(std::string path, std::string content, mode_t mode = 0644) {
  return {std::move(path), TarEntry::kFile, std::move(content), mode, {}};
}
inline TarEntry dir(std::string path, mode_t mode = 0755) {
  return {std::move(path), TarEntry::kDir, {}, mode, {}};
}
inline TarEntry symlink(std::string path, std::string target) {
  return {std::move(path), TarEntry::kSymlink, {}, 0777, std::move(target)};
}
inline TarEntry hardlink(std::string path, std::string target) {
  return {std::move(path), TarEntry::kHardlink, {}, 0644, std::move(target)};
}

enum class Compression { kNone, kGzip, kZstd };

std::string buildTar(const std::vector<TarEntry>& entries);
std::string compress(const std::string& bytes, Compression compression);

struct Layer {
  std::string blob;  // as stored in the image
  Digest digest;
  Digest diff_id;
  std::string media_type;
};
Layer makeLayer(const std::vector<TarEntry>& entries, Compression compression);

struct Image {
  std::vector<Layer> layers;
  std::string config;
  Digest config_digest;
  std::string manifest;
  Digest manifest_digest;
};

struct ImageSpec {
  std::string architecture = "amd64";
  std::string entrypoint_json = R"(["/bin/sh"])";
  std::string cmd_json = R"(["-c","echo hi"])";
  std::vector<std::string> env = {"PATH=/bin", "LANG=C"};
  std::string working_dir = "/srv";
  std::optional<std::vector<Digest>> diff_ids;  // override (a lying config)
};
Image makeImage(std::vector<Layer> layers, const ImageSpec& spec = {});

// Writes every blob of `image` under `dir/blobs/sha256`.
void writeBlobs(const std::string& dir, const Image& image);
void writeBlob(const std::string& dir, const std::string& bytes);

// An OCI layout with the given index.json entries (a descriptor JSON each).
std::string descriptorJson(const std::string& media_type, const std::string& bytes,
                           const std::string& ref_name = "", const std::string& platform_json = "");
void writeOciLayout(const std::string& dir, const std::vector<Image>& images,
                    const std::vector<std::string>& index_descriptors);
// A single-image layout named `ref_name`.
void writeOciLayout(const std::string& dir, const Image& image, const std::string& ref_name);

// Tars a directory (the oci-archive of a layout), optionally compressed.
void tarDirectory(const std::string& dir, const std::string& out,
                  Compression compression = Compression::kNone);

// docker save, legacy style (<diffid>.tar layers, <id>/layer.tar symlinks, a
// <sha256>.json config) or docker >= 25 (OCI layout plus manifest.json).
void writeDockerArchive(const std::string& out, const std::vector<Image>& images,
                        const std::vector<std::vector<std::string>>& repo_tags, bool legacy);

// A small file at `path` with these bytes.
void writeBytes(const std::string& path, const std::string& bytes);
std::string readBytes(const std::string& path);

// The busybox-static binary, the base of the test images.
std::string busybox();

// The busybox image of the tests, bottom first: a base (uncompressed), then
// (gzip) a file whiteout, a directory whiteout, an opaque directory (marker
// before the directory entry, with a whiteout inside it that must vanish), a
// setuid file and a hard link, then (zstd) a file re-added over its own
// whiteout and a file in the whited-out directory. `compressed` false: all plain tars.
std::vector<Layer> busyboxLayers(bool compressed = true);

}  // namespace wick::images::testing
