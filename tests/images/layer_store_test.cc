// Layers unpacked for real: whiteouts in overlayfs form proven by mounting the
// stack, and hostile layer tarballs refused by name with nothing left behind.
#include "images/layer_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "tests/images/image_builder.h"
#include "tests/images/test_support.h"

namespace wick::images {
namespace {

namespace fs = std::filesystem;
using namespace testing;

std::set<std::string> listDir(const std::string& path) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(path))
    names.insert(e.path().filename());
  return names;
}

class LayerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store.init()); }
  Result<LayerInfo> unpack(const Layer& layer, LayerUnpackOptions options = {}) {
    MemorySource source(layer.blob);
    return store.unpack(source, {layer.diff_id, layer.digest, layer.blob.size()}, options);
  }
  bool nothingLeft() {
    auto layers = store.list();
    return layers && layers->empty() && fs::is_empty(root / "tmp");
  }
  TempDir root;
  LayerStore store{root.path()};
};

TEST_F(LayerStoreTest, WhiteoutsBecomeOverlayFormAndStackToTheImage) {
  auto layers = busyboxLayers();
  std::vector<std::string> paths;
  for (const auto& layer : layers) {
    auto info = unpack(layer);
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_FALSE(info->reused);
    EXPECT_EQ(info->blob_digest, layer.digest);
    paths.push_back(store.path(layer.diff_id));
  }
  // The middle layer on disk: whiteout devices and the opaque xattr.
  struct stat st {};
  ASSERT_EQ(::lstat((paths[1] + "/etc/app.conf").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  ASSERT_EQ(::lstat((paths[1] + "/var/cache").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  char value[8] = {};
  ASSERT_EQ(::lgetxattr((paths[1] + "/opt/data").c_str(), "trusted.overlay.opaque", value, 8), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_EQ(listDir(paths[1] + "/opt/data"), (std::set<std::string>{"new.txt"}));
  // setuid dropped, hard link kept within the layer.
  struct stat tool {
  }, tool2{};
  ASSERT_EQ(::lstat((paths[1] + "/usr/bin/tool").c_str(), &tool), 0);
  ASSERT_EQ(::lstat((paths[1] + "/usr/bin/tool2").c_str(), &tool2), 0);
  EXPECT_EQ(tool.st_mode & 07777, 0755u);
  EXPECT_EQ(tool.st_ino, tool2.st_ino);
  // The top layer re-adds a file over its own whiteout: the file wins.
  EXPECT_EQ(readBytes(paths[2] + "/etc/keep.conf"), "keep2");

  // Stacked as the sandbox stacks them.
  const std::string merged = root / "merged";
  {
    OverlayMount mount(paths, merged);
    ASSERT_TRUE(mount.ok()) << strerror(errno);
    EXPECT_FALSE(fs::exists(fs::symlink_status(merged + "/etc/app.conf")));
    EXPECT_EQ(readBytes(merged + "/etc/keep.conf"), "keep2");
    EXPECT_EQ(listDir(merged + "/var/cache"), (std::set<std::string>{"fresh"}));
    EXPECT_EQ(listDir(merged + "/opt/data"), (std::set<std::string>{"new.txt"}));
    EXPECT_EQ(listDir(merged + "/etc"), (std::set<std::string>{"keep.conf"}));
    EXPECT_TRUE(fs::exists(merged + "/bin/busybox"));
    // And the image runs: busybox's shell inside the merged root.
    const std::string command = "chroot " + merged +
                                " /bin/sh -c 'cat /etc/keep.conf; ls /opt/data' > " +
                                (root / "out") + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << readBytes(root / "out");
    EXPECT_EQ(readBytes(root / "out"), "keep2new.txt\n");
  }
}

TEST_F(LayerStoreTest, SecondUnpackOfALayerReadsNothing) {
  auto layer = busyboxLayers()[0];
  ASSERT_TRUE(unpack(layer));
  struct stat before {};
  ASSERT_EQ(::stat(store.path(layer.diff_id).c_str(), &before), 0);
  MemorySource empty("");  // would fail if it were read
  auto again = store.unpack(empty, {layer.diff_id, layer.digest, layer.blob.size()});
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->reused);
  struct stat after {};
  ASSERT_EQ(::stat(store.path(layer.diff_id).c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

TEST_F(LayerStoreTest, DiffIdMismatchLeavesNothing) {
  auto layer = busyboxLayers()[1];
  layer.diff_id = Digest::of("something else");
  auto info = unpack(layer);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message().find("diff_id mismatch"), std::string::npos)
      << info.error().message();
  EXPECT_TRUE(nothingLeft());
}

TEST_F(LayerStoreTest, BlobDigestMismatchLeavesNothing) {
  auto layer = busyboxLayers()[2];
  layer.digest = Digest::of("not the blob");
  auto info = unpack(layer);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message().find("blob digest mismatch"), std::string::npos)
      << info.error().message();
  EXPECT_TRUE(nothingLeft());
}

struct Hostile {
  const char* name;
  std::vector<TarEntry> entries;
  const char* entry;   // named in the error
  const char* reason;  // said in the error
};

class HostileLayerTest : public LayerStoreTest, public ::testing::WithParamInterface<Hostile> {};

TEST_P(HostileLayerTest, IsRefusedByEntryAndReasonWithNothingLeft) {
  const Hostile& hostile = GetParam();
  Layer layer = makeLayer(hostile.entries, Compression::kGzip);
  LayerUnpackOptions options;
  options.max_unpacked_bytes = 1 << 20;
  auto info = unpack(layer, options);
  ASSERT_FALSE(info) << hostile.name;
  const std::string& message = info.error().message();
  EXPECT_NE(message.find(std::string("entry '") + hostile.entry + "'"), std::string::npos)
      << message;
  EXPECT_NE(message.find(hostile.reason), std::string::npos) << message;
  EXPECT_TRUE(nothingLeft());
  EXPECT_FALSE(fs::exists("/tmp/wick-canary"));
}

INSTANTIATE_TEST_SUITE_P(
    Tarballs, HostileLayerTest,
    ::testing::Values(
        Hostile{"traversal",
                {file("ok", "x"), file("../../tmp/wick-canary", "x")},
                "../../tmp/wick-canary",
                "path leaves the destination"},
        Hostile{"absolute",
                {file("/tmp/wick-canary", "x")},
                "/tmp/wick-canary",
                "path leaves the destination"},
        Hostile{"symlink escape",
                {symlink("escape", "/tmp"), file("escape/wick-canary", "x")},
                "escape/wick-canary",
                "not a plain directory"},
        Hostile{"symlinked parent swap",
                {dir("d"), symlink("d", "/tmp"), file("d/wick-canary", "x")},
                "d",
                "File exists"},
        Hostile{
            "hardlink escape", {hardlink("h", "../../etc/passwd")}, "h", "leaves the destination"},
        Hostile{"hardlink via symlink",
                {symlink("s", "/etc"), hardlink("h", "s/passwd")},
                "h",
                "hard link target 's/passwd'"},
        Hostile{"device node",
                {{"dev/mem", TarEntry::kCharDevice, {}, 0600, {}}},
                "dev/mem",
                "device nodes, fifos and sockets are not allowed"},
        Hostile{"fifo",
                {{"pipe", TarEntry::kFifo, {}, 0600, {}}},
                "pipe",
                "device nodes, fifos and sockets are not allowed"},
        Hostile{"whiteout without a name",
                {file("etc/.wh.", "")},
                "etc/.wh.",
                "whiteout names no file"},
        Hostile{"oversized", {file("big", std::string(2 << 20, 'z'))}, "big", "exceeds the limit"}),
    [](const auto& param_info) {
      std::string name = param_info.param.name;
      std::replace(name.begin(), name.end(), ' ', '_');
      return name;
    });

TEST_F(LayerStoreTest, DecompressionBombStopsAtTheLimit) {
  // 64 MiB of zeros gzip to ~64 KiB: the uncompressed stream is what is bounded.
  Layer bomb = makeLayer({file("zeros", std::string(64 << 20, '\0'))}, Compression::kGzip);
  EXPECT_LT(bomb.blob.size(), 1u << 20);
  LayerUnpackOptions options;
  options.max_unpacked_bytes = 8 << 20;
  auto info = unpack(bomb, options);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message().find("limit of 8388608 bytes"), std::string::npos)
      << info.error().message();
  EXPECT_TRUE(nothingLeft());
}

TEST_F(LayerStoreTest, SetuidBitsAreCleared) {
  Layer layer = makeLayer({file("bin/su", "x", 06755)}, Compression::kNone);
  ASSERT_TRUE(unpack(layer));
  struct stat st {};
  ASSERT_EQ(::lstat((store.path(layer.diff_id) + "/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(LayerStoreTest, RemoveAndLeftovers) {
  auto layer = busyboxLayers()[0];
  ASSERT_TRUE(unpack(layer));
  fs::create_directories(root / "tmp/layer-deadbeef.partial-1/x");
  ASSERT_TRUE(store.removeLeftovers());
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
  ASSERT_TRUE(store.remove(layer.diff_id));
  EXPECT_FALSE(store.has(layer.diff_id));
  EXPECT_TRUE(nothingLeft());
}

}  // namespace
}  // namespace wick::images
