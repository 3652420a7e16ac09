#include "tests/images/image_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace wick::images::testing {

namespace fs = std::filesystem;

namespace {

struct Writer {
  archive* a = archive_write_new();
  std::string out;
  ~Writer() { archive_write_free(a); }
  static la_ssize_t write(archive*, void* self, const void* buffer, size_t size) {
    static_cast<Writer*>(self)->out.append(static_cast<const char*>(buffer), size);
    return static_cast<la_ssize_t>(size);
  }
  void open() {
    archive_write_set_bytes_in_last_block(a, 1);
    EXPECT_EQ(archive_write_open(a, this, nullptr, write, nullptr), ARCHIVE_OK);
  }
};

void addFilter(archive* a, Compression compression) {
  if (compression == Compression::kGzip) archive_write_add_filter_gzip(a);
  if (compression == Compression::kZstd) archive_write_add_filter_zstd(a);
}

}  // namespace

std::string buildTar(const std::vector<TarEntry>& entries) {
  Writer w;
  archive_write_set_format_pax_restricted(w.a);
  w.open();
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_perm(entry, e.mode);
    archive_entry_set_mtime(entry, 1700000000, 0);
    switch (e.kind) {
      case TarEntry::kFile:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
        break;
      case TarEntry::kDir:
        archive_entry_set_filetype(entry, AE_IFDIR);
        break;
      case TarEntry::kSymlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.link.c_str());
        break;
      case TarEntry::kHardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.link.c_str());
        archive_entry_set_size(entry, 0);
        break;
      case TarEntry::kCharDevice:
        archive_entry_set_filetype(entry, AE_IFCHR);
        archive_entry_set_rdevmajor(entry, 1);
        archive_entry_set_rdevminor(entry, 3);
        break;
      case TarEntry::kFifo:
        archive_entry_set_filetype(entry, AE_IFIFO);
        break;
    }
    EXPECT_EQ(archive_write_header(w.a, entry), ARCHIVE_OK) << archive_error_string(w.a);
    if (e.kind == TarEntry::kFile && !e.content.empty())
      archive_write_data(w.a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(w.a);
  return w.out;
}

std::string compress(const std::string& bytes, Compression compression) {
  if (compression == Compression::kNone) return bytes;
  Writer w;
  archive_write_set_format_raw(w.a);
  addFilter(w.a, compression);
  w.open();
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, "data");
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_size(entry, static_cast<la_int64_t>(bytes.size()));
  EXPECT_EQ(archive_write_header(w.a, entry), ARCHIVE_OK) << archive_error_string(w.a);
  archive_write_data(w.a, bytes.data(), bytes.size());
  archive_entry_free(entry);
  archive_write_close(w.a);
  return w.out;
}

Layer makeLayer(const std::vector<TarEntry>& entries, Compression compression) {
  const std::string tar = buildTar(entries);
  Layer layer;
  layer.diff_id = Digest::of(tar);
  layer.blob = compress(tar, compression);
  layer.digest = Digest::of(layer.blob);
  layer.media_type = "application/vnd.oci.image.layer.v1.tar";
  if (compression == Compression::kGzip) layer.media_type += "+gzip";
  if (compression == Compression::kZstd) layer.media_type += "+zstd";
  return layer;
}

static std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Image makeImage(std::vector<Layer> layers, const ImageSpec& spec) {
  Image image;
  image.layers = std::move(layers);
  std::string diff_ids, env;
  std::vector<Digest> ids;
  for (const auto& l : image.layers)
    ids.push_back(l.diff_id);
  if (spec.diff_ids) ids = *spec.diff_ids;
  for (const auto& id : ids)
    diff_ids += (diff_ids.empty() ? "" : ",") + jsonString(id.str());
  for (const auto& e : spec.env)
    env += (env.empty() ? "" : ",") + jsonString(e);
  image.config = R"({"architecture":")" + spec.architecture +
                 R"(","os":"linux","config":{"Entrypoint":)" + spec.entrypoint_json + R"(,"Cmd":)" +
                 spec.cmd_json + R"(,"Env":[)" + env + R"(],"WorkingDir":)" +
                 jsonString(spec.working_dir) +
                 R"(,"User":"1000"},"rootfs":{"type":"layers","diff_ids":[)" + diff_ids + "]}}";
  image.config_digest = Digest::of(image.config);
  std::string layer_descriptors;
  for (const auto& l : image.layers)
    layer_descriptors +=
        (layer_descriptors.empty() ? "" : ",") + descriptorJson(l.media_type, l.blob);
  image.manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      descriptorJson("application/vnd.oci.image.config.v1+json", image.config) + R"(,"layers":[)" +
      layer_descriptors + "]}";
  image.manifest_digest = Digest::of(image.manifest);
  return image;
}

std::string descriptorJson(const std::string& media_type, const std::string& bytes,
                           const std::string& ref_name, const std::string& platform_json) {
  std::string out = R"({"mediaType":")" + media_type + R"(","digest":")" + Digest::of(bytes).str() +
                    R"(","size":)" + std::to_string(bytes.size());
  if (!platform_json.empty()) out += R"(,"platform":)" + platform_json;
  if (!ref_name.empty())
    out += R"(,"annotations":{"org.opencontainers.image.ref.name":)" + jsonString(ref_name) + "}";
  return out + "}";
}

void writeBytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeBlob(const std::string& dir, const std::string& bytes) {
  writeBytes(dir + "/blobs/sha256/" + Digest::of(bytes).hex(), bytes);
}

void writeBlobs(const std::string& dir, const Image& image) {
  for (const auto& l : image.layers)
    writeBlob(dir, l.blob);
  writeBlob(dir, image.config);
  writeBlob(dir, image.manifest);
}

void writeOciLayout(const std::string& dir, const std::vector<Image>& images,
                    const std::vector<std::string>& index_descriptors) {
  for (const auto& image : images)
    writeBlobs(dir, image);
  writeBytes(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  std::string manifests;
  for (const auto& d : index_descriptors)
    manifests += (manifests.empty() ? "" : ",") + d;
  writeBytes(dir + "/index.json", R"({"schemaVersion":2,"manifests":[)" + manifests + "]}");
}

void writeOciLayout(const std::string& dir, const Image& image, const std::string& ref_name) {
  writeOciLayout(dir, std::vector<Image>{image},
                 std::vector<std::string>{descriptorJson(
                     "application/vnd.oci.image.manifest.v1+json", image.manifest, ref_name)});
}

void tarDirectory(const std::string& dir, const std::string& out, Compression compression) {
  std::vector<TarEntry> entries;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    if (e.is_symlink())
      entries.push_back(symlink(rel, fs::read_symlink(e.path()).string()));
    else if (e.is_directory())
      entries.push_back(testing::dir(rel));
    else
      entries.push_back(file(rel, readBytes(e.path())));
  }
  writeBytes(out, compress(buildTar(entries), compression));
}

void writeDockerArchive(const std::string& out, const std::vector<Image>& images,
                        const std::vector<std::vector<std::string>>& repo_tags, bool legacy) {
  std::vector<TarEntry> entries;
  std::string manifest_json = "[";
  for (size_t i = 0; i < images.size(); ++i) {
    const Image& image = images[i];
    std::string config_name, layers;
    if (legacy) {
      config_name = image.config_digest.hex() + ".json";
      entries.push_back(file(config_name, image.config));
      for (size_t j = 0; j < image.layers.size(); ++j) {
        // skopeo: the layer by diff_id, and a v1 directory whose layer.tar links to it.
        const std::string tar_name = image.layers[j].diff_id.hex() + ".tar";
        const std::string v1 = std::to_string(i) + "v1id" + std::to_string(j);
        entries.push_back(file(tar_name, image.layers[j].blob));
        entries.push_back(dir(v1));
        entries.push_back(symlink(v1 + "/layer.tar", "../" + tar_name));
        layers += (layers.empty() ? "\"" : ",\"") + v1 + "/layer.tar\"";
      }
    } else {
      config_name = "blobs/sha256/" + image.config_digest.hex();
      entries.push_back(file(config_name, image.config));
      entries.push_back(file("blobs/sha256/" + image.manifest_digest.hex(), image.manifest));
      for (const auto& l : image.layers) {
        entries.push_back(file("blobs/sha256/" + l.digest.hex(), l.blob));
        layers +=
            (layers.empty() ? "\"" : ",\"") + std::string("blobs/sha256/") + l.digest.hex() + "\"";
      }
    }
    std::string tags;
    for (const auto& t : repo_tags[i])
      tags += (tags.empty() ? "" : ",") + jsonString(t);
    manifest_json += std::string(i ? "," : "") + R"({"Config":")" + config_name +
                     R"(","RepoTags":[)" + tags + R"(],"Layers":[)" + layers + "]}";
  }
  manifest_json += "]";
  if (!legacy) {
    entries.push_back(file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
    // docker 25's broken index (moby#47210): manifest.json must win.
    entries.push_back(file("index.json", R"({"schemaVersion":2,"manifests":null})"));
  }
  entries.push_back(file("manifest.json", manifest_json));  // docker writes it last
  writeBytes(out, buildTar(entries));
}

std::string busybox() {
  return readBytes("/bin/busybox");
}

// The busybox image of the tests: three layers with a file whiteout, a
// directory whiteout, an opaque directory and a file re-added over its own whiteout.
std::vector<Layer> busyboxLayers(bool compressed) {
  Layer base =
      makeLayer({dir("bin"), file("bin/busybox", busybox(), 0755), symlink("bin/sh", "busybox"),
                 symlink("bin/cat", "busybox"), symlink("bin/ls", "busybox"), dir("etc"),
                 file("etc/app.conf", "app"), file("etc/keep.conf", "keep"), dir("opt/data"),
                 file("opt/data/a.txt", "a"), file("opt/data/sub/b.txt", "b"),
                 file("var/cache/x/junk", "j"), dir("srv")},
                Compression::kNone);
  Layer middle = makeLayer(
      {file("etc/.wh.app.conf", ""), file("var/.wh.cache", ""),
       // umoci writes the opaque marker before the directory's own entry.
       file("opt/data/.wh..wh..opq", ""), dir("opt/data", 0750), file("opt/data/new.txt", "new"),
       file("opt/data/.wh.a.txt", ""), file("usr/bin/tool", "#!/bin/sh\n", 04755),
       hardlink("usr/bin/tool2", "usr/bin/tool")},
      compressed ? Compression::kGzip : Compression::kNone);
  Layer top = makeLayer(
      {file("var/cache/fresh", "f"), file("etc/.wh.keep.conf", ""), file("etc/keep.conf", "keep2")},
      compressed ? Compression::kZstd : Compression::kNone);
  return {base, middle, top};
}

}  // namespace wick::images::testing
