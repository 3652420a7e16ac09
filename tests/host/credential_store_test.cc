// The credentials file: the AWS shared credentials format as botocore reads
// it, and the owner and mode checks that keep its secrets root's.
#include "host/auth/credential_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/unique_fd.h"

namespace wick::auth {
namespace {

constexpr const char* kTwoProfiles =
    "# operator's keys\n"
    "[wick]\n"
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    "wick_admin = true\n"
    "\n"
    "; an invoker\n"
    "[ci]\n"
    "AWS_ACCESS_KEY_ID=AKIAI44QH8DHBEXAMPLE\r\n"
    "aws_secret_access_key=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\r\n"
    "s3 =\n"
    "  addressing_style = path\n"
    "[default]\n"
    "region = us-east-1\n";

TEST(CredentialStore, FindsEachProfileByItsAccessKeyId) {
  auto store = CredentialStore::parse(kTwoProfiles, "test");
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_EQ(store->size(), 2u);  // [default] has no keys: no principal
  auto wick = store->find("AKIAIOSFODNN7EXAMPLE");
  ASSERT_TRUE(wick);
  EXPECT_EQ(wick->name, "wick");
  EXPECT_EQ(wick->secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  EXPECT_TRUE(wick->admin);
  auto ci = store->find("AKIAI44QH8DHBEXAMPLE");
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->name, "ci");
  EXPECT_EQ(ci->secret_access_key, "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY");
  EXPECT_FALSE(ci->admin);
  EXPECT_FALSE(store->find("AKIAIOSFODNN7EXAMPL"));
  EXPECT_FALSE(store->find(""));
}

TEST(CredentialStore, RefusesMalformedFilesSayingWhere) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", "line 1: a key before any [profile]"},
      {"[wick\n", "line 1: a section header must end with ']'"},
      {"[]\n", "empty profile name"},
      {"[wick]\njust words\n", "line 2: expected '[profile]' or 'key = value'"},
      {"[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", "[a] has aws_access_key_id but no"},
      {"[a]\naws_secret_access_key = x\n", "[a] has aws_secret_access_key but no"},
      {"[a]\naws_access_key_id = short\naws_secret_access_key = x\n", "16 to 128"},
      {"[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = a b\n",
       "without spaces"},
      {"[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
       "wick_admin = yes\n",
       "wick_admin must be true or false"},
      {"[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
       "[b]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = y\n",
       "[b] has the same aws_access_key_id as [a]"},
      {"[a]\n[a]\n", "line 2: profile [a] appears twice"},
      {"[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_access_key_id = AKIAIOSFODNN7EXAMPLF\n",
       "line 3: 'aws_access_key_id' appears twice"},
  };
  for (const Case& c : cases) {
    auto store = CredentialStore::parse(c.text, "creds");
    ASSERT_FALSE(store) << c.text;
    EXPECT_NE(store.error().message().find(c.says), std::string::npos)
        << store.error().message() << " should say " << c.says;
    EXPECT_EQ(store.error().message().rfind("creds", 0), 0u) << store.error().message();
  }
}

TEST(CredentialStore, RandomKeysAreShapedAsAwsAndNeverRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    Principal p = newRandomPrincipal("wick", true);
    ASSERT_EQ(p.access_key_id.size(), 20u);
    EXPECT_EQ(p.access_key_id.rfind("AKIA", 0), 0u);
    EXPECT_EQ(p.access_key_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
              std::string::npos);
    ASSERT_EQ(p.secret_access_key.size(), 40u);
    EXPECT_TRUE(seen.insert(p.access_key_id).second);
    EXPECT_TRUE(seen.insert(p.secret_access_key).second);
  }
  // 200 secrets of 40 characters use (nearly) the whole alphabet: none is stuck.
  std::set<char> characters;
  for (const auto& s : seen)
    characters.insert(s.begin(), s.end());
  EXPECT_GT(characters.size(), 60u);
}

class CredentialFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "wick-credentials-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/credentials";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  std::string dir_, path_;
};

TEST_F(CredentialFile, CreatedAdminKeyLoadsBackOwnerOnly) {
  auto admin = CredentialStore::createWithAdmin(path_, "wick");
  ASSERT_TRUE(admin) << admin.error().message();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  auto store = CredentialStore::load(path_, ::geteuid());
  ASSERT_TRUE(store) << store.error().message();
  auto found = store->find(admin->access_key_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "wick");
  EXPECT_EQ(found->secret_access_key, admin->secret_access_key);
  EXPECT_TRUE(found->admin);
  // Never over an existing file.
  auto again = CredentialStore::createWithAdmin(path_, "wick");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("File exists"), std::string::npos);
}

TEST_F(CredentialFile, RefusesAFileGroupOrOthersMayReadOrWrite) {
  for (mode_t mode : {0640, 0604, 0620, 0602, 0644, 0660}) {
    write(kTwoProfiles, mode);
    auto store = CredentialStore::load(path_, ::geteuid());
    ASSERT_FALSE(store) << std::oct << mode;
    EXPECT_NE(store.error().message().find("chmod 600 " + path_), std::string::npos)
        << store.error().message();
  }
  write(kTwoProfiles, 0400);
  EXPECT_TRUE(CredentialStore::load(path_, ::geteuid()));
}

TEST_F(CredentialFile, RefusesAFileSomeoneElseOwns) {
  write(kTwoProfiles, 0600);
  // As root the file really changes hands; otherwise the expected owner does.
  uid_t expected = ::geteuid();
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(path_.c_str(), 65534, 65534), 0);
  } else {
    expected = 0;
  }
  auto store = CredentialStore::load(path_, expected);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("is owned by uid"), std::string::npos)
      << store.error().message();
  if (::geteuid() == 0) {
    EXPECT_NE(store.error().message().find("not root"), std::string::npos);
  }
}

TEST_F(CredentialFile, RefusesSymlinksDirectoriesAndEmptyFiles) {
  write(kTwoProfiles, 0600);
  const std::string link = dir_ + "/link";
  ASSERT_EQ(::symlink(path_.c_str(), link.c_str()), 0);
  auto through_link = CredentialStore::load(link, ::geteuid());
  ASSERT_FALSE(through_link);
  EXPECT_EQ(through_link.error().errNo(), ELOOP);
  const std::string sub = dir_ + "/sub";
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  auto directory = CredentialStore::load(sub, ::geteuid());
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().message().find("not a regular file"), std::string::npos);
  write("# nothing yet\n[default]\nregion = us-east-1\n", 0600);
  auto empty = CredentialStore::load(path_, ::geteuid());
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("holds no credentials"), std::string::npos);
  auto missing = CredentialStore::load(dir_ + "/absent", ::geteuid());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errNo(), ENOENT);
}

}  // namespace
}  // namespace wick::auth
