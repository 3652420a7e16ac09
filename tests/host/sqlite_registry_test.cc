// The embedded registry against real SQLite (in memory, or a file where a
// test must reach the database behind the registry's back): every query and
// every constraint of the interface.
#include "host/registry/sqlite_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace wick::registry {
namespace {

using nlohmann::json;

std::unique_ptr<SqliteRegistry> openInMemory() {
  auto registry = SqliteRegistry::open(":memory:");
  EXPECT_TRUE(registry.ok()) << registry.error().message();
  return std::move(*registry);
}

FunctionRecord function(const std::string& name, const std::string& code = std::string(64, 'a'),
                        int64_t size = 100) {
  FunctionRecord record;
  record.name = name;
  record.config.runtime = "provided.al2023";
  record.config.role = "arn:aws:iam::123456789012:role/r";
  record.code_sha256 = code;
  record.code_size = size;
  record.revision_id = "rev-" + name;
  record.last_modified = "2026-01-01T00:00:00.000+0000";
  return record;
}

VersionRecord versionOf(const FunctionRecord& record, int64_t number) {
  VersionRecord version{number, record};
  version.record.version = std::to_string(number);
  return version;
}

LayerVersionRecord layer(const std::string& name, int64_t version) {
  LayerVersionRecord record;
  record.name = name;
  record.version = version;
  record.code_sha256 = std::string(64, 'c');
  record.code_size = 10;
  record.compatible_runtimes = json::array({"python3.11"});
  return record;
}

TEST(SqliteRegistry, InsertedFunctionReadsBackWithEveryField) {
  auto registry = openInMemory();
  FunctionRecord record = function("f");
  record.config.memory_mb = 512;
  record.config.environment = {{"KEY", "v"}};
  record.reserved_concurrency = 7;
  record.tags = {{"team", "a"}};
  record.state = "Pending";
  record.state_reason = "building";
  record.state_reason_code = "Creating";
  record.last_update_status = "InProgress";
  record.internal = {{"UnpackedSize", 1234}};
  ASSERT_TRUE(*registry->insert(record));
  auto read = registry->get("f");
  ASSERT_TRUE(read.ok() && read->has_value());
  const FunctionRecord& got = **read;
  EXPECT_EQ(got.config, record.config);
  EXPECT_EQ(got.code_sha256, record.code_sha256);
  EXPECT_EQ(got.code_size, 100);
  EXPECT_EQ(got.revision_id, "rev-f");
  EXPECT_EQ(got.last_modified, record.last_modified);
  EXPECT_EQ(got.reserved_concurrency, 7);
  EXPECT_EQ(got.tags, record.tags);
  EXPECT_EQ(got.state, "Pending");
  EXPECT_EQ(got.state_reason, "building");
  EXPECT_EQ(got.state_reason_code, "Creating");
  EXPECT_EQ(got.last_update_status, "InProgress");
  EXPECT_EQ(got.internal, record.internal);
  EXPECT_EQ(got.version, "$LATEST");
  EXPECT_FALSE(registry->get("g")->has_value());
}

TEST(SqliteRegistry, NameIsUniqueAndUpdateAndRemoveTouchOneRow) {
  auto registry = openInMemory();
  ASSERT_TRUE(*registry->insert(function("f")));
  FunctionRecord other = function("f", std::string(64, 'b'));
  EXPECT_FALSE(*registry->insert(other));  // the first one stays
  EXPECT_EQ((*registry->get("f"))->code_sha256, std::string(64, 'a'));
  other.config.timeout_s = 60;
  ASSERT_TRUE(registry->update(other).ok());
  EXPECT_EQ((*registry->get("f"))->config.timeout_s, 60);
  EXPECT_EQ((*registry->get("f"))->code_sha256, std::string(64, 'b'));
  EXPECT_TRUE(*registry->remove("f"));
  EXPECT_FALSE(*registry->remove("f"));
  EXPECT_EQ(*registry->count(), 0);
}

TEST(SqliteRegistry, ListPagesInNameOrderAfterTheMarker) {
  auto registry = openInMemory();
  for (const char* name : {"c", "a", "d", "b"})
    ASSERT_TRUE(*registry->insert(function(name)));
  auto names = [&](const std::string& marker, int64_t limit) {
    std::vector<std::string> listed;
    auto records = registry->list(marker, limit);
    EXPECT_TRUE(records.ok());
    for (const auto& record : *records)
      listed.push_back(record.name);
    return listed;
  };
  EXPECT_EQ(names("", 10), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(names("", 2), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names("b", 10), (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(names("d", 10).empty());
}

TEST(SqliteRegistry, SumsOverFunctions) {
  auto registry = openInMemory();
  FunctionRecord a = function("a", std::string(64, 'a'), 100);
  a.reserved_concurrency = 10;
  FunctionRecord b = function("b", std::string(64, 'b'), 250);
  b.reserved_concurrency = 5;
  ASSERT_TRUE(*registry->insert(a));
  ASSERT_TRUE(*registry->insert(b));
  ASSERT_TRUE(*registry->insert(function("c", std::string(64, 'a'), 100)));
  EXPECT_EQ(*registry->count(), 3);
  EXPECT_EQ(*registry->totalCodeSize(), 450);
  EXPECT_EQ(*registry->reservedConcurrencyExcept("a"), 5);
  EXPECT_EQ(*registry->reservedConcurrencyExcept("z"), 15);
}

TEST(SqliteRegistry, CodeInUseCountsFunctionsAndPublishedVersions) {
  auto registry = openInMemory();
  const std::string code(64, 'e');
  FunctionRecord record = function("f", code);
  ASSERT_TRUE(*registry->insert(record));
  ASSERT_TRUE(registry->insertVersion(versionOf(record, 1)).ok());
  EXPECT_EQ(*registry->functionsUsingCode(code), 2);
  record.code_sha256 = std::string(64, 'f');
  ASSERT_TRUE(registry->update(record).ok());
  EXPECT_EQ(*registry->functionsUsingCode(code), 1);  // version 1 keeps it
  EXPECT_EQ(*registry->functionsUsingCode(std::string(64, '0')), 0);
}

TEST(SqliteRegistry, VersionsAreNumberedOnceAndListedInOrder) {
  auto registry = openInMemory();
  FunctionRecord record = function("f");
  record.config.description = "v";
  for (int64_t number : {2, 1, 3})
    ASSERT_TRUE(registry->insertVersion(versionOf(record, number)).ok());
  auto duplicate = registry->insertVersion(versionOf(record, 2));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().message().find("version 2"), std::string::npos)
      << duplicate.error().message();
  auto versions = registry->versions("f");
  ASSERT_EQ(versions->size(), 3u);
  EXPECT_EQ((*versions)[0].number, 1);
  EXPECT_EQ((*versions)[2].number, 3);
  auto second = registry->version("f", 2);
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->record.version, "2");
  EXPECT_EQ((*second)->record.config, record.config);
  EXPECT_FALSE(registry->version("f", 9)->has_value());
  EXPECT_TRUE(*registry->removeVersion("f", 2));
  EXPECT_FALSE(*registry->removeVersion("f", 2));
  EXPECT_EQ(registry->versions("f")->size(), 2u);
}

TEST(SqliteRegistry, AliasesAreUniquePerFunction) {
  auto registry = openInMemory();
  AliasRecord alias{"f", "live", "1", "d", {{"AdditionalVersionWeights", {{"2", 0.5}}}}, "r1"};
  ASSERT_TRUE(*registry->insertAlias(alias));
  EXPECT_FALSE(*registry->insertAlias(alias));
  AliasRecord same_name_other_function = alias;
  same_name_other_function.function = "g";
  EXPECT_TRUE(*registry->insertAlias(same_name_other_function));
  alias.function_version = "2";
  alias.revision_id = "r2";
  ASSERT_TRUE(registry->updateAlias(alias).ok());
  auto read = registry->alias("f", "live");
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->function_version, "2");
  EXPECT_EQ((*read)->routing, alias.routing);
  EXPECT_EQ((*read)->revision_id, "r2");
  EXPECT_EQ(registry->aliases("f")->size(), 1u);
  EXPECT_TRUE(*registry->removeAlias("f", "live"));
  EXPECT_FALSE(*registry->removeAlias("f", "live"));
  EXPECT_FALSE(registry->alias("f", "live")->has_value());
}

TEST(SqliteRegistry, DeletingAFunctionsVersionsAndAliasesLeavesOthers) {
  auto registry = openInMemory();
  for (const char* name : {"f", "g"}) {
    ASSERT_TRUE(registry->insertVersion(versionOf(function(name), 1)).ok());
    ASSERT_TRUE(*registry->insertAlias({name, "live", "1", "", json::object(), "r"}));
  }
  ASSERT_TRUE(registry->removeVersionsAndAliases("f").ok());
  EXPECT_TRUE(registry->versions("f")->empty());
  EXPECT_TRUE(registry->aliases("f")->empty());
  EXPECT_EQ(registry->versions("g")->size(), 1u);
  EXPECT_EQ(registry->aliases("g")->size(), 1u);
}

TEST(SqliteRegistry, LayerVersionsAreKeptWhenDeletedAndCountedWhereUsed) {
  auto registry = openInMemory();
  ASSERT_TRUE(registry->insertLayerVersion(layer("l", 1)).ok());
  ASSERT_TRUE(registry->insertLayerVersion(layer("l", 2)).ok());
  ASSERT_TRUE(registry->insertLayerVersion(layer("k", 1)).ok());
  auto duplicate = registry->insertLayerVersion(layer("l", 2));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().message().find("insert layer 'l' version 2"), std::string::npos);
  auto versions = registry->layerVersions("l");
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 2);  // newest first
  EXPECT_EQ((*versions)[0].compatible_runtimes, json::array({"python3.11"}));
  ASSERT_TRUE(registry->markLayerVersionDeleted("l", 1).ok());
  EXPECT_TRUE((*registry->layerVersion("l", 1))->deleted);
  EXPECT_FALSE((*registry->layerVersion("l", 2))->deleted);
  EXPECT_FALSE(registry->layerVersion("l", 3)->has_value());
  auto all = registry->allLayerVersions();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "k");

  const std::string arn = "arn:aws:lambda:us-east-1:000000000000:layer:l:1";
  FunctionRecord user = function("f");
  user.internal = {{"Layers", json::array({{{"Arn", arn}, {"Sha256", std::string(64, 'c')}}})}};
  ASSERT_TRUE(*registry->insert(user));
  ASSERT_TRUE(registry->insertVersion(versionOf(user, 1)).ok());
  EXPECT_EQ(*registry->functionsUsingLayer(arn), 2);
  EXPECT_EQ(*registry->functionsUsingLayer(arn + "0"), 0);
}

TEST(SqliteRegistry, ImageDigestsInUseComeFromFunctionsAndVersionsOnce) {
  auto registry = openInMemory();
  FunctionRecord image = function("img");
  image.internal = {{"ImageDigest", "sha256:aa"}};
  ASSERT_TRUE(*registry->insert(image));
  ASSERT_TRUE(registry->insertVersion(versionOf(image, 1)).ok());
  image.internal = {{"ImageDigest", "sha256:bb"}};
  ASSERT_TRUE(registry->update(image).ok());
  ASSERT_TRUE(*registry->insert(function("zip")));
  auto digests = *registry->imageDigestsInUse();
  std::sort(digests.begin(), digests.end());
  EXPECT_EQ(digests, (std::vector<std::string>{"sha256:aa", "sha256:bb"}));
}

class SqliteRegistryFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "wick-registry-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return dir_ + "/wick.db"; }
  void execBehindItsBack(const std::string& sql) {
    auto db = Database::open(path());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec(sql).ok()) << sql;
  }
  std::string dir_;
};

TEST_F(SqliteRegistryFile, FunctionsSurviveReopening) {
  {
    auto registry = SqliteRegistry::open(path());
    ASSERT_TRUE(registry.ok());
    ASSERT_TRUE(*(*registry)->insert(function("kept")));
  }
  auto reopened = SqliteRegistry::open(path());
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE((*reopened)->get("kept")->has_value());
}

TEST_F(SqliteRegistryFile, StoredSettingsThatDoNotParseAreAnErrorNamingTheFunction) {
  {
    auto registry = SqliteRegistry::open(path());
    ASSERT_TRUE(*(*registry)->insert(function("f")));
  }
  execBehindItsBack("UPDATE functions SET settings = '{\"Timeout\":3,\"Bogus\":1}'");
  auto registry = SqliteRegistry::open(path());
  auto read = (*registry)->get("f");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message(), "get function 'f': function f: unknown field Bogus");
  execBehindItsBack("UPDATE functions SET settings = 'not json'");
  read = (*registry)->get("f");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().errNo(), EIO);
}

TEST_F(SqliteRegistryFile, ASchemaNewerThanThisDaemonIsRefused) {
  { ASSERT_TRUE(SqliteRegistry::open(path()).ok()); }
  execBehindItsBack("PRAGMA user_version = 99");
  auto registry = SqliteRegistry::open(path());
  ASSERT_FALSE(registry.ok());
  EXPECT_EQ(registry.error().errNo(), EPROTO);
  EXPECT_NE(registry.error().message().find("schema version 99"), std::string::npos);
}

}  // namespace
}  // namespace wick::registry
