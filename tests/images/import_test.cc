// Import of the same busybox image from an OCI layout, an oci-archive and
// docker-archives old and new; platform and ref selection; every kind of lie
// refused with no record and no partial layer left.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "images/image_store.h"
#include "tests/images/image_builder.h"
#include "tests/images/test_support.h"

namespace wick::images {
namespace {

namespace fs = std::filesystem;
using namespace testing;

constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = ImageStore::open(root / "store");
    ASSERT_TRUE(opened) << opened.error().message();
    store.emplace(std::move(*opened));
    image = makeImage(busyboxLayers());
  }
  // No record, no layer, no staging file, no blob.
  void expectNothingStored() {
    auto images = store->list();
    ASSERT_TRUE(images);
    EXPECT_TRUE(images->empty());
    EXPECT_TRUE(fs::is_empty(root / "store/layers/sha256"));
    EXPECT_TRUE(fs::is_empty(root / "store/tmp"));
    EXPECT_TRUE(fs::is_empty(root / "store/blobs/sha256"));
  }
  std::string import_error(const std::string& path, ImportOptions options = {}) {
    auto record = store->import(path, options);
    if (record) return "";
    return record.error().message();
  }
  TempDir root;
  std::optional<ImageStore> store;
  Image image;
};

void expectBusybox(const ImageRecord& record, const Image& image) {
  EXPECT_EQ(record.config_digest, image.config_digest);
  ASSERT_EQ(record.layers.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(record.layers[i].diff_id, image.layers[i].diff_id);
  EXPECT_EQ(record.platform.str(), "linux/amd64");
  ASSERT_TRUE(record.config.entrypoint);
  EXPECT_EQ(*record.config.entrypoint, (std::vector<std::string>{"/bin/sh"}));
  EXPECT_EQ(record.config.working_dir, "/srv");
  EXPECT_EQ(record.config.user, "1000");
  EXPECT_GT(record.size, 1'000'000u);  // busybox itself
}

TEST_F(ImportTest, OciLayout) {
  writeOciLayout(root / "layout", image, "example.com/tools/busybox:1.35");
  std::vector<ImportProgress> seen;
  ImportOptions options;
  options.progress = [&](const ImportProgress& p) { seen.push_back(p); };
  auto record = store->import(root / "layout", options);
  ASSERT_TRUE(record) << record.error().message();
  expectBusybox(*record, image);
  EXPECT_EQ(record->ref(), "example.com/tools/busybox:1.35");
  EXPECT_EQ(record->digest, image.manifest_digest);
  EXPECT_EQ(record->source, "oci-layout");
  EXPECT_EQ(record->layers[1].blob_digest, image.layers[1].digest);
  EXPECT_TRUE(store->blobs().has(image.manifest_digest));
  EXPECT_TRUE(store->blobs().has(image.config_digest));
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().layers_done, 3u);
  EXPECT_EQ(seen.back().layers_total, 3u);
  EXPECT_EQ(seen.back().bytes_done, seen.back().bytes_total);
  // The stacked layers are the image.
  auto paths = store->layerPaths(*record);
  ASSERT_TRUE(paths);
  OverlayMount mount(*paths, root / "merged");
  ASSERT_TRUE(mount.ok());
  EXPECT_EQ(readBytes(root / "merged/etc/keep.conf"), "keep2");
  EXPECT_FALSE(fs::exists(root / "merged/etc/app.conf"));
}

TEST_F(ImportTest, OciArchivePlainAndGzipped) {
  writeOciLayout(root / "layout", image, "busybox:oci");
  tarDirectory(root / "layout", root / "image.tar");
  tarDirectory(root / "layout", root / "image.tar.gz", Compression::kGzip);
  ImportOptions options;
  options.tag = "bb:plain";
  auto plain = store->import(root / "image.tar", options);
  ASSERT_TRUE(plain) << plain.error().message();
  expectBusybox(*plain, image);
  EXPECT_EQ(plain->source, "oci-archive");
  EXPECT_EQ(plain->digest, image.manifest_digest);
  EXPECT_EQ(plain->ref(), "bb:plain");
  options.tag = "";
  auto gz = store->import(root / "image.tar.gz", options);
  ASSERT_TRUE(gz) << gz.error().message();
  EXPECT_EQ(gz->ref(), "busybox:oci");
  EXPECT_EQ(gz->digest, plain->digest);
}

TEST_F(ImportTest, DockerArchiveLegacyAndNew) {
  // docker-archive layers are uncompressed tars.
  Image docker = makeImage(busyboxLayers(/*compressed=*/false));
  writeDockerArchive(root / "legacy.tar", {docker}, {{"docker.io/library/busybox:legacy"}}, true);
  writeDockerArchive(root / "new.tar", {docker}, {{"busybox:new"}}, false);
  auto legacy = store->import(root / "legacy.tar");
  ASSERT_TRUE(legacy) << legacy.error().message();
  expectBusybox(*legacy, docker);
  EXPECT_EQ(legacy->ref(), "busybox:legacy");
  EXPECT_EQ(legacy->source, "docker-archive");
  auto fresh = store->import(root / "new.tar");
  ASSERT_TRUE(fresh) << fresh.error().message();
  expectBusybox(*fresh, docker);
  EXPECT_EQ(fresh->ref(), "busybox:new");
  // The synthesized manifest is a stored blob the layers can be found from.
  auto diff_ids = store->diffIdsOf(legacy->digest);
  ASSERT_TRUE(diff_ids) << diff_ids.error().message();
  EXPECT_EQ(diff_ids->size(), 3u);
}

TEST_F(ImportTest, SharedLayersAreUnpackedOnce) {
  writeOciLayout(root / "one", image, "one:1");
  ASSERT_TRUE(store->import(root / "one"));
  struct stat before {};
  const std::string base = store->layers().path(image.layers[0].diff_id);
  ASSERT_EQ(::stat(base.c_str(), &before), 0);
  // A second image on the same base with one layer of its own.
  auto layers = busyboxLayers();
  layers.resize(1);
  layers.push_back(makeLayer({file("app/handler.sh", "echo hi")}, Compression::kGzip));
  Image two = makeImage(layers);
  writeOciLayout(root / "two", two, "two:1");
  size_t read_layers = 0;
  ImportOptions options;
  options.progress = [&](const ImportProgress& p) { read_layers = p.layers_done; };
  auto record = store->import(root / "two", options);
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(read_layers, 2u);
  struct stat after {};
  ASSERT_EQ(::stat(base.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  auto stored = store->layers().list();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->size(), 4u);
}

TEST_F(ImportTest, MultiPlatformIndexPicksLinuxAmd64) {
  ImageSpec arm_spec;
  arm_spec.architecture = "arm64";
  Image arm = makeImage(busyboxLayers(), arm_spec);
  // An attestation manifest first (buildkit provenance), then arm64, then amd64.
  const std::string index =
      R"({"schemaVersion":2,"mediaType":")" + std::string(kIndexType) + R"(","manifests":[)" +
      descriptorJson(kManifestType, arm.manifest, "",
                     R"({"os":"unknown","architecture":"unknown"})") +
      "," +
      descriptorJson(kManifestType, arm.manifest, "", R"({"os":"linux","architecture":"arm64"})") +
      "," +
      descriptorJson(kManifestType, image.manifest, "",
                     R"({"os":"linux","architecture":"amd64"})") +
      "]}";
  writeBlob(root / "layout", index);
  writeOciLayout(root / "layout", {image, arm}, {descriptorJson(kIndexType, index, "multi:1")});
  auto record = store->import(root / "layout");
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->digest, image.manifest_digest);
  EXPECT_EQ(record->ref(), "multi:1");
}

TEST_F(ImportTest, IndexWithoutLinuxAmd64IsAClearError) {
  ImageSpec arm_spec;
  arm_spec.architecture = "arm64";
  Image arm = makeImage(busyboxLayers(), arm_spec);
  writeOciLayout(
      root / "layout", std::vector<Image>{arm},
      std::vector<std::string>{descriptorJson(kManifestType, arm.manifest, "arm:1",
                                              R"({"os":"linux","architecture":"arm64"})")});
  const std::string error = import_error(root / "layout");
  EXPECT_NE(error.find("no linux/amd64 image in the index (found: linux/arm64)"), std::string::npos)
      << error;
  expectNothingStored();
}

TEST_F(ImportTest, ConfigOfAnotherArchitectureIsRefused) {
  ImageSpec arm_spec;
  arm_spec.architecture = "arm64";
  Image arm = makeImage(busyboxLayers(), arm_spec);
  writeDockerArchive(root / "arm.tar", {arm}, {{"arm:1"}}, true);
  const std::string error = import_error(root / "arm.tar");
  EXPECT_NE(error.find("image is linux/arm64; this host runs linux/amd64"), std::string::npos)
      << error;
  expectNothingStored();
}

TEST_F(ImportTest, RefChoosesAmongSeveralImages) {
  auto layers = busyboxLayers();
  Image other = makeImage({layers[0]});
  writeOciLayout(root / "layout", {image, other},
                 {descriptorJson(kManifestType, image.manifest, "app:1"),
                  descriptorJson(kManifestType, other.manifest, "app:2")});
  EXPECT_NE(import_error(root / "layout").find("several images (app:1, app:2)"), std::string::npos);
  ImportOptions options;
  options.ref = "app:2";
  auto record = store->import(root / "layout", options);
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->digest, other.manifest_digest);
  options.ref = "app:3";
  EXPECT_NE(import_error(root / "layout", options).find("no image named 'app:3'"),
            std::string::npos);
  // RepoTags in a docker-archive.
  writeDockerArchive(root / "two.tar", {image, other}, {{"a:1"}, {"b:1", "b:latest"}}, true);
  options.ref = "b";
  auto b = store->import(root / "two.tar", options);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->config_digest, other.config_digest);
  EXPECT_EQ(b->ref(), "b:latest");
}

TEST_F(ImportTest, CorruptedLayerBlobAbortsWithNothingStored) {
  writeOciLayout(root / "layout", image, "bad:1");
  // Same size, one byte changed, in the top layer: the two others unpack first.
  const std::string blob = root / ("layout/blobs/sha256/" + image.layers[2].digest.hex());
  std::string bytes = readBytes(blob);
  bytes[bytes.size() / 2] ^= 0x55;
  writeBytes(blob, bytes);
  const std::string error = import_error(root / "layout");
  EXPECT_FALSE(error.empty());
  EXPECT_NE(error.find("layer " + image.layers[2].diff_id.str()), std::string::npos) << error;
  auto images = store->list();
  ASSERT_TRUE(images);
  EXPECT_TRUE(images->empty());
  EXPECT_FALSE(store->layers().has(image.layers[2].diff_id));
  EXPECT_TRUE(fs::is_empty(root / "store/tmp"));
  EXPECT_TRUE(fs::is_empty(root / "store/blobs/sha256"));
  // What did unpack completely is verified and shared; gc takes it.
  auto report = store->gc();
  ASSERT_TRUE(report);
  expectNothingStored();
}

TEST_F(ImportTest, CorruptedManifestIsRefused) {
  writeOciLayout(root / "layout", image, "bad:1");
  const std::string blob = root / ("layout/blobs/sha256/" + image.manifest_digest.hex());
  std::string bytes = readBytes(blob);
  bytes[bytes.size() - 2] = ' ';
  writeBytes(blob, bytes);
  const std::string error = import_error(root / "layout");
  EXPECT_NE(error.find("digest mismatch"), std::string::npos) << error;
  expectNothingStored();
}

TEST_F(ImportTest, DiffIdMismatchAbortsWithNothingStored) {
  auto layers = busyboxLayers();
  ImageSpec spec;
  spec.diff_ids = {layers[0].diff_id, layers[1].diff_id, Digest::of("a lie")};
  Image liar = makeImage(layers, spec);
  writeDockerArchive(root / "liar.tar", {liar}, {{"liar:1"}}, false);
  const std::string error = import_error(root / "liar.tar");
  EXPECT_NE(error.find("diff_id mismatch"), std::string::npos) << error;
  EXPECT_FALSE(store->layers().has(layers[2].diff_id));
  EXPECT_TRUE(fs::is_empty(root / "store/tmp"));
  auto images = store->list();
  ASSERT_TRUE(images);
  EXPECT_TRUE(images->empty());
}

TEST_F(ImportTest, ImageSizeLimitStopsABomb) {
  Image bomb =
      makeImage({makeLayer({file("zeros", std::string(32 << 20, '\0'))}, Compression::kZstd)});
  writeOciLayout(root / "layout", bomb, "bomb:1");
  ImportOptions options;
  options.max_image_bytes = 4 << 20;
  const std::string error = import_error(root / "layout", options);
  EXPECT_NE(error.find("exceeds the limit"), std::string::npos) << error;
  expectNothingStored();
}

TEST_F(ImportTest, HostileDigestsAndDocumentsAreRefused) {
  writeBytes(root / "layout/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  writeBytes(root / "layout/index.json",
             R"({"schemaVersion":2,"manifests":[{"mediaType":")" + std::string(kManifestType) +
                 R"(","digest":"sha256:../../../etc/passwd","size":10}]})");
  EXPECT_NE(import_error(root / "layout").find("invalid digest"), std::string::npos);
  // A manifest that is also an index (CVE-2021-41190).
  const std::string ambiguous = R"({"schemaVersion":2,"mediaType":")" + std::string(kManifestType) +
                                R"(","manifests":[],"config":{},"layers":[]})";
  writeBlob(root / "amb", ambiguous);
  writeOciLayout(root / "amb", std::vector<Image>{},
                 std::vector<std::string>{descriptorJson(kManifestType, ambiguous, "amb:1")});
  EXPECT_NE(import_error(root / "amb").find("ambiguous"), std::string::npos);
  expectNothingStored();
}

}  // namespace
}  // namespace wick::images
