// ls / inspect / rm / gc over real imports, and the blob store beneath them.
#include "images/image_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "images/blob_store.h"
#include "tests/images/image_builder.h"
#include "tests/images/test_support.h"

namespace wick::images {
namespace {

namespace fs = std::filesystem;
using namespace testing;

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = ImageStore::open(root / "store");
    ASSERT_TRUE(opened) << opened.error().message();
    store.emplace(std::move(*opened));
    auto layers = busyboxLayers();
    first = makeImage(layers);
    second = makeImage({layers[0], makeLayer({file("app/run", "x")}, Compression::kGzip)});
    writeOciLayout(root / "first", first, "first:1");
    writeOciLayout(root / "second", second, "registry.local:5000/team/second:2");
    ASSERT_TRUE(store->import(root / "first"));
    ASSERT_TRUE(store->import(root / "second"));
  }
  size_t layerCount() { return store->layers().list()->size(); }
  TempDir root;
  std::optional<ImageStore> store;
  Image first, second;
};

TEST_F(ImageStoreTest, ListAndInspect) {
  auto images = store->list();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].ref(), "first:1");
  EXPECT_EQ((*images)[1].ref(), "registry.local:5000/team/second:2");
  auto record = store->inspect("registry.local:5000/team/second:2");
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->digest, second.manifest_digest);
  EXPECT_EQ(record->layers.size(), 2u);
  EXPECT_EQ(record->config.env, (std::vector<std::string>{"PATH=/bin", "LANG=C"}));
  auto by_digest = store->inspect("first@" + first.manifest_digest.str());
  ASSERT_TRUE(by_digest) << by_digest.error().message();
  EXPECT_EQ(by_digest->ref(), "first:1");
  auto missing = store->inspect("nope:1");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errNo(), ENOENT);
  // The record as JSON (what `wick image inspect` prints) round-trips.
  auto again = imageRecordFromJson(toJson(*record));
  ASSERT_TRUE(again);
  EXPECT_EQ(toJson(*again), toJson(*record));
}

TEST_F(ImageStoreTest, RemoveKeepsLayersOthersUse) {
  EXPECT_EQ(layerCount(), 4u);
  auto report = store->remove("first:1");
  ASSERT_TRUE(report) << report.error().message();
  // The base layer is second's too.
  EXPECT_EQ(report->layers_removed.size(), 2u);
  EXPECT_TRUE(store->layers().has(first.layers[0].diff_id));
  EXPECT_FALSE(store->layers().has(first.layers[1].diff_id));
  EXPECT_FALSE(store->blobs().has(first.manifest_digest));
  auto again = store->remove("registry.local:5000/team/second:2");
  ASSERT_TRUE(again);
  EXPECT_EQ(layerCount(), 0u);
  EXPECT_TRUE(store->blobs().list()->empty());
  EXPECT_FALSE(store->remove("first:1"));
}

TEST_F(ImageStoreTest, ReferencesKeepAnImageAfterItsNameIsGone) {
  // A function created from first:1 keeps running after `wick image rm first:1`.
  References keep;
  keep.images.insert(first.manifest_digest);
  auto report = store->remove("first:1", keep);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->layers_removed.empty());
  auto gc = store->gc(keep);
  ASSERT_TRUE(gc);
  EXPECT_TRUE(gc->layers_removed.empty());
  auto diff_ids = store->diffIdsOf(first.manifest_digest);
  ASSERT_TRUE(diff_ids);
  for (const auto& id : *diff_ids)
    EXPECT_TRUE(store->layers().has(id));
  // Once the function is gone too, gc takes the rest of first.
  auto later = store->gc();
  ASSERT_TRUE(later);
  EXPECT_EQ(later->layers_removed.size(), 2u);
  EXPECT_EQ(later->blobs_removed.size(), 2u);
  EXPECT_EQ(layerCount(), 2u);
}

TEST_F(ImageStoreTest, GcTakesOnlyWhatNothingUses) {
  auto zip = store->blobs().putBytes("PK function code");
  ASSERT_TRUE(zip);
  auto stray = store->blobs().putBytes("stray");
  ASSERT_TRUE(stray);
  fs::create_directories(root / "store/tmp/layer-0123.partial-1/x");
  References keep;
  keep.blobs.insert(*zip);
  auto report = store->gc(keep);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->blobs_removed, std::vector<Digest>{*stray});
  EXPECT_TRUE(report->layers_removed.empty());
  EXPECT_TRUE(store->blobs().has(*zip));
  EXPECT_TRUE(fs::is_empty(root / "store/tmp"));
  EXPECT_EQ(layerCount(), 4u);
}

TEST(BlobStoreTest, PutVerifiesAndIsAtomic) {
  TempDir root;
  BlobStore blobs(root.path());
  ASSERT_TRUE(blobs.init());
  const Digest digest = Digest::of("hello");
  EXPECT_EQ(digest.str(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  auto wrong = blobs.putBytes("hellO", digest);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("digest mismatch"), std::string::npos);
  EXPECT_FALSE(blobs.has(digest));
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
  MemorySource longer("hello world");
  auto too_long = blobs.put(longer, std::nullopt, 5);
  ASSERT_FALSE(too_long);
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
  ASSERT_TRUE(blobs.putBytes("hello", digest));
  EXPECT_TRUE(blobs.has(digest));
  EXPECT_EQ(*blobs.read(digest), "hello");
  EXPECT_EQ(blobs.path(digest), root / ("blobs/sha256/" + digest.hex()));
  ASSERT_TRUE(blobs.remove(digest));
  EXPECT_FALSE(blobs.has(digest));
  EXPECT_TRUE(blobs.remove(digest));
}

TEST(DigestTest, RefusesWhatIsNotASha256) {
  EXPECT_FALSE(Digest::parse("sha256:../../etc/passwd"));
  EXPECT_FALSE(Digest::parse("sha512:" + std::string(128, 'a')));
  EXPECT_FALSE(Digest::parse("sha256:" + std::string(64, 'A')));
  EXPECT_TRUE(Digest::parse("sha256:" + std::string(64, 'a')));
}

TEST(ReferenceTest, ParsesLambdaImageUris) {
  auto plain = parseRef("busybox");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->str(), "busybox:latest");
  auto docker = parseRef("docker.io/library/busybox:1.35");
  ASSERT_TRUE(docker);
  EXPECT_EQ(docker->str(), "busybox:1.35");
  auto host = parseRef("localhost:5000/a/b:v1");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->name, "localhost:5000/a/b");
  EXPECT_EQ(host->tag, "v1");
  auto pinned = parseRef("app@sha256:" + std::string(64, 'b'));
  ASSERT_TRUE(pinned);
  EXPECT_TRUE(pinned->digest);
  EXPECT_FALSE(parseRef("../evil:1"));
  EXPECT_FALSE(parseRef("Upper:1"));
  EXPECT_FALSE(parseRef("a:b/c"));
  EXPECT_TRUE(refMatches("latest", *plain));
  EXPECT_TRUE(refMatches("docker.io/library/busybox:latest", *plain));
}

}  // namespace
}  // namespace wick::images
