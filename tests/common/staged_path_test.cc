// StagedPath against the real filesystem: what is committed appears whole,
// what is not is gone, whichever way its owner goes.
#include "common/staged_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/unique_fd.h"

namespace wick {
namespace {

namespace fs = std::filesystem;

class StagedPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "wick-staged-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string at(const std::string& name) const { return dir_ + "/" + name; }
  // Every entry of the test directory, to see that nothing was left behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_))
      names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  static void makeTree(const std::string& root, const std::string& content) {
    fs::create_directories(root + "/sub");
    std::ofstream(root + "/sub/file") << content;
  }

  std::string dir_;
};

TEST_F(StagedPathTest, NameIsBesideTheDestinationAndMarked) {
  StagedPath staged = StagedPath::beside(at("tree"));
  EXPECT_EQ(fs::path(staged.path()).parent_path(), dir_);
  EXPECT_TRUE(staged.path().starts_with(at("tree") + ".partial-")) << staged.path();
  EXPECT_TRUE(isStagedName(fs::path(staged.path()).filename().string()));
  EXPECT_FALSE(isStagedName("tree"));
  EXPECT_NE(StagedPath::beside(at("tree")).path(), staged.path());
}

TEST_F(StagedPathTest, CommitRenamesTheFileAndDisarms) {
  {
    StagedPath staged = StagedPath::beside(at("record.json"));
    ASSERT_TRUE(staged.writeFile("{}\n").ok());
    ASSERT_TRUE(staged.commit().ok());
    EXPECT_FALSE(fs::exists(staged.path()));
  }
  EXPECT_EQ(*readFile(at("record.json")), "{}\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"record.json"});
}

TEST_F(StagedPathTest, UncommittedTreeIsRemovedWhenItsOwnerGoes) {
  std::string staged_path;
  {
    StagedPath staged = StagedPath::beside(at("tree"));
    staged_path = staged.path();
    makeTree(staged.path(), "half");
    ASSERT_TRUE(fs::exists(staged_path + "/sub/file"));
  }
  EXPECT_FALSE(fs::exists(staged_path));
  EXPECT_TRUE(entries().empty());
}

TEST_F(StagedPathTest, StagingInAStoreTmpDirCommitsToANameKnownLater) {
  fs::create_directories(at("tmp"));
  StagedPath staged = StagedPath::in(at("tmp"), "blob");
  EXPECT_EQ(fs::path(staged.path()).parent_path(), at("tmp"));
  EXPECT_TRUE(fs::path(staged.path()).filename().string().starts_with("blob.partial-"));
  ASSERT_TRUE(staged.writeFile("bytes").ok());
  EXPECT_FALSE(staged.commit().ok());  // no destination yet
  ASSERT_TRUE(staged.commitTo(at("sha256-of-bytes")).ok());
  EXPECT_EQ(*readFile(at("sha256-of-bytes")), "bytes");
  EXPECT_TRUE(fs::is_empty(at("tmp")));
}

TEST_F(StagedPathTest, WriteFileRefusesToReuseAName) {
  StagedPath staged = StagedPath::beside(at("zip"));
  ASSERT_TRUE(staged.writeFile("one").ok());
  auto again = staged.writeFile("two");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().errNo(), EEXIST);
  EXPECT_NE(again.error().message().find(staged.path()), std::string::npos);
}

TEST_F(StagedPathTest, FailedCommitNamesBothPathsAndStillOwnsTheOutput) {
  std::string staged_path;
  {
    StagedPath staged = StagedPath::beside(at("tree"));
    staged_path = staged.path();
    makeTree(staged.path(), "x");
    auto committed = staged.commitTo(at("missing-dir/tree"));
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.error().errNo(), ENOENT);
    EXPECT_EQ(
        committed.error().message(),
        "rename " + staged_path + " to " + at("missing-dir/tree") + ": No such file or directory");
    EXPECT_TRUE(fs::exists(staged_path));
  }
  EXPECT_FALSE(fs::exists(staged_path));
}

TEST_F(StagedPathTest, CommitUnlessPresentKeepsTheTreeAlreadyThere) {
  makeTree(at("tree"), "first");
  StagedPath staged = StagedPath::beside(at("tree"));
  makeTree(staged.path(), "second");
  auto renamed = staged.commitUnlessPresent();
  ASSERT_TRUE(renamed.ok()) << renamed.error().message();
  EXPECT_FALSE(*renamed);
  EXPECT_EQ(*readFile(at("tree/sub/file")), "first");
  EXPECT_EQ(entries(), std::vector<std::string>{"tree"});
}

TEST_F(StagedPathTest, CommitUnlessPresentRenamesWhenNothingIsThere) {
  StagedPath staged = StagedPath::beside(at("tree"));
  makeTree(staged.path(), "only");
  auto renamed = staged.commitUnlessPresent();
  ASSERT_TRUE(renamed.ok());
  EXPECT_TRUE(*renamed);
  EXPECT_EQ(*readFile(at("tree/sub/file")), "only");
}

TEST_F(StagedPathTest, CommitUnlessPresentReportsOtherFailures) {
  StagedPath staged = StagedPath::beside(at("tree"));
  makeTree(staged.path(), "x");
  ASSERT_FALSE(staged.commitTo(at("no/such/dir")).ok());
  auto renamed = staged.commitUnlessPresent();
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.error().errNo(), ENOENT);
}

TEST_F(StagedPathTest, MoveTransfersOwnershipOnce) {
  StagedPath first = StagedPath::beside(at("a"));
  makeTree(first.path(), "a");
  const std::string first_path = first.path();
  StagedPath moved = std::move(first);
  first = StagedPath::beside(at("b"));  // the moved-from object owned nothing
  EXPECT_TRUE(fs::exists(first_path));
  StagedPath other = StagedPath::beside(at("c"));
  makeTree(other.path(), "c");
  const std::string other_path = other.path();
  other = std::move(moved);  // `other`'s own output goes as it takes `moved`'s
  EXPECT_FALSE(fs::exists(other_path));
  EXPECT_TRUE(fs::exists(first_path));
  ASSERT_TRUE(other.commit().ok());
  EXPECT_TRUE(fs::exists(at("a/sub/file")));
}

}  // namespace
}  // namespace wick
