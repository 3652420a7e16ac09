// Hostile and honest archives, written with libarchive, unpacked for real.
#include "images/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/unique_fd.h"

namespace wick::images {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string content{};
  mode_t mode = 0644;
  std::string link{};  // symlink target, or hard link target with hardlink = true
  bool hardlink = false;
};

enum class Format { kZip, kTarGz };

std::string buildArchive(Format format, const std::vector<Entry>& entries) {
  archive* writer = archive_write_new();
  if (format == Format::kZip) {
    archive_write_set_format_zip(writer);
  } else {
    archive_write_set_format_pax_restricted(writer);
    archive_write_add_filter_gzip(writer);
  }
  std::vector<char> buffer(64 << 20);
  size_t used = 0;
  archive_write_open_memory(writer, buffer.data(), buffer.size(), &used);
  for (const auto& item : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, item.path.c_str());
    archive_entry_set_filetype(entry, item.type);
    archive_entry_set_perm(entry, item.mode);
    if (item.hardlink) {
      archive_entry_set_hardlink(entry, item.link.c_str());
    } else if (item.type == AE_IFLNK) {
      archive_entry_set_symlink(entry, item.link.c_str());
    }
    if (item.type == AE_IFREG && !item.hardlink) archive_entry_set_size(entry, item.content.size());
    archive_write_header(writer, entry);
    if (item.type == AE_IFREG && !item.hardlink)
      archive_write_data(writer, item.content.data(), item.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
  return std::string(buffer.data(), used);
}

class Extract : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-extract-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    work_ = pattern;
    outside_ = work_ / "outside";
    fs::create_directories(outside_);
  }
  void TearDown() override { fs::remove_all(work_); }

  Result<ExtractStats> extract(Format format, const std::vector<Entry>& entries,
                               ExtractOptions options = {}) {
    std::string bytes = buildArchive(format, entries);
    return extractArchiveFromMemory(bytes.data(), bytes.size(), dest().string(), options);
  }
  fs::path dest() const { return work_ / "dest"; }
  // Nothing was written outside, and nothing was left half-done.
  void expectNothingLeftBehind() {
    EXPECT_TRUE(fs::is_empty(outside_));
    for (const auto& entry : fs::directory_iterator(work_))
      EXPECT_EQ(entry.path(), outside_) << "left behind: " << entry.path();
  }

  fs::path work_;
  fs::path outside_;
};

TEST_F(Extract, HonestZipKeepsTreeAndModes) {
  auto stats = extract(Format::kZip, {{.path = "bootstrap", .content = "#!/bin/sh\n", .mode = 0755},
                                      {.path = "lib/", .type = AE_IFDIR, .mode = 0755},
                                      {.path = "lib/handler.py", .content = "x = 1\n"},
                                      {.path = "lib/link", .type = AE_IFLNK, .link = "handler.py"},
                                      {.path = "./a/b/c.txt", .content = "deep"}});
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(stats->files, 3u);
  EXPECT_EQ(stats->symlinks, 1u);
  struct stat st {};
  ASSERT_EQ(::stat((dest() / "bootstrap").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u) << "an executable bootstrap stays executable";
  EXPECT_EQ(*readFile(dest() / "lib/link"), "x = 1\n");
  EXPECT_EQ(*readFile(dest() / "a/b/c.txt"), "deep");
}

TEST_F(Extract, DotDotEntriesAreRejected) {
  auto stats = extract(Format::kZip, {{.path = "ok.txt", .content = "1"},
                                      {.path = "../outside/evil", .content = "pwned"}});
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.error().message().find("entry '../outside/evil': path leaves the destination"),
            std::string::npos)
      << stats.error().message();
  expectNothingLeftBehind();
}

TEST_F(Extract, AbsolutePathsAreRejected) {
  auto stats = extract(Format::kTarGz, {{.path = (outside_ / "evil").string(), .content = "x"}});
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.error().message().find("path leaves the destination"), std::string::npos);
  expectNothingLeftBehind();
}

TEST_F(Extract, SymlinkPointingOutsideIsRejectedInAZip) {
  for (const std::string target : {"/etc/passwd", "../../outside", "a/../../.."}) {
    auto stats = extract(Format::kZip, {{.path = "link", .type = AE_IFLNK, .link = target}});
    ASSERT_FALSE(stats.ok()) << target;
    EXPECT_NE(stats.error().message().find("points outside the destination"), std::string::npos)
        << stats.error().message();
    expectNothingLeftBehind();
  }
}

TEST_F(Extract, WritingThroughASymlinkedParentIsRejectedEvenWhenLinksAreAllowed) {
  // The classic: a symlink to outside, then a file "through" it.
  ExtractOptions layer;
  layer.allow_escaping_symlinks = true;
  auto stats = extract(Format::kTarGz,
                       {{.path = "escape", .type = AE_IFLNK, .link = outside_.string()},
                        {.path = "escape/evil", .content = "pwned"}},
                       layer);
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.error().message().find("entry 'escape/evil'"), std::string::npos)
      << stats.error().message();
  expectNothingLeftBehind();
}

TEST_F(Extract, FileReplacingASymlinkDoesNotFollowIt) {
  ExtractOptions layer;
  layer.allow_escaping_symlinks = true;
  std::ofstream(outside_ / "victim") << "original";
  auto stats = extract(Format::kTarGz,
                       {{.path = "f", .type = AE_IFLNK, .link = (outside_ / "victim").string()},
                        {.path = "f", .content = "replaced"}},
                       layer);
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(*readFile(outside_ / "victim"), "original");
  EXPECT_EQ(*readFile(dest() / "f"), "replaced");
}

TEST_F(Extract, HardlinksAreRejectedUnlessAllowedAndNeverLeaveTheRoot) {
  auto zip = extract(Format::kTarGz,
                     {{.path = "a", .content = "1"}, {.path = "b", .link = "a", .hardlink = true}});
  ASSERT_FALSE(zip.ok());
  EXPECT_NE(zip.error().message().find("hard links are not allowed"), std::string::npos);
  expectNothingLeftBehind();

  ExtractOptions layer;
  layer.allow_hardlinks = true;
  auto inside =
      extract(Format::kTarGz,
              {{.path = "a", .content = "1"}, {.path = "b", .link = "a", .hardlink = true}}, layer);
  ASSERT_TRUE(inside.ok()) << inside.error().message();
  EXPECT_EQ(*readFile(dest() / "b"), "1");
  fs::remove_all(dest());

  std::ofstream(outside_ / "secret") << "s";
  auto escape = extract(Format::kTarGz,
                        {{.path = "b", .link = "../outside/secret", .hardlink = true}}, layer);
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(escape.error().message().find("leaves the destination"), std::string::npos);
}

TEST_F(Extract, DeviceNodesAndFifosAreRejected) {
  for (mode_t type : {AE_IFCHR, AE_IFBLK, AE_IFIFO}) {
    auto stats = extract(Format::kTarGz, {{.path = "dev", .type = type}});
    ASSERT_FALSE(stats.ok());
    EXPECT_NE(stats.error().message().find("device nodes, fifos and sockets are not allowed"),
              std::string::npos);
    expectNothingLeftBehind();
  }
}

TEST_F(Extract, SetuidBitsAreCleared) {
  auto stats = extract(Format::kTarGz, {{.path = "su", .content = "x", .mode = 04755},
                                        {.path = "d/", .type = AE_IFDIR, .mode = 02775}});
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  struct stat st {};
  ASSERT_EQ(::stat((dest() / "su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat((dest() / "d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0775u);
}

TEST_F(Extract, DecompressionBombStopsAtTheLimit) {
  ExtractOptions small;
  small.max_unpacked_bytes = 1 << 20;
  std::string zeros(8 << 20, '\0');  // 8 MB that compress to a few KB
  std::string bytes = buildArchive(Format::kZip, {{.path = "bomb", .content = zeros}});
  EXPECT_LT(bytes.size(), 64u << 10);
  auto stats = extractArchiveFromMemory(bytes.data(), bytes.size(), dest().string(), small);
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.error().message().find("unpacked size exceeds the limit"), std::string::npos);
  expectNothingLeftBehind();
}

TEST_F(Extract, GarbageIsAClearErrorNotACrash) {
  std::string garbage = "PK\x03\x04 this is not really a zip";
  auto stats = extractArchiveFromMemory(garbage.data(), garbage.size(), dest().string());
  ASSERT_FALSE(stats.ok());
  expectNothingLeftBehind();
}

TEST_F(Extract, ExistingDestinationIsNotTouched) {
  fs::create_directories(dest());
  std::ofstream(dest() / "keep") << "k";
  auto stats = extract(Format::kZip, {{.path = "keep", .content = "overwritten"}});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(*readFile(dest() / "keep"), "k");
}

TEST(NormalizeEntryPath, LexicalRules) {
  EXPECT_EQ(normalizeEntryPath("a/./b//c"), "a/b/c");
  EXPECT_EQ(normalizeEntryPath("./a"), "a");
  EXPECT_EQ(normalizeEntryPath("a/../b"), "");
  EXPECT_EQ(normalizeEntryPath("/a"), "");
  EXPECT_EQ(normalizeEntryPath(".."), "");
  EXPECT_EQ(normalizeEntryPath("./"), "");
}

}  // namespace
}  // namespace wick::images
