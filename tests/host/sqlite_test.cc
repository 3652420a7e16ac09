// registry::Database, the helper of every SQLite store in host/: migrations
// versioned per component (several in one file), refused when newer, rolled
// back when a step fails, the registry's user_version from before; and the
// statement helpers (rows, first, scalar, execute, transaction).
#include "host/registry/sqlite.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "host/async/event_invoke_config.h"
#include "host/async/event_store.h"
#include "host/registry/sqlite_registry.h"
#include "host/scheduler/schedule.h"

namespace wick::registry {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "wick-sqlite-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Database open(const std::string& name = "test.db") {
    auto db = Database::open(dir_ + "/" + name);
    EXPECT_TRUE(db.ok()) << db.error().message();
    return std::move(*db);
  }
  static int64_t versionOf(Database& db, const std::string& component) {
    return db.scalar("SELECT version FROM schema_versions WHERE component = ?", component)
        ->value_or(-1);
  }
  std::string dir_;
};

// Steps that fail when run twice: a re-run would show.
constexpr const char* kA[] = {"CREATE TABLE a1 (x INTEGER)", "CREATE TABLE a2 (x INTEGER)"};
constexpr const char* kB[] = {"CREATE TABLE b1 (x INTEGER)"};

TEST_F(DatabaseTest, ComponentsInOneFileAreVersionedApartAndNotMigratedTwice) {
  {
    Database db = open();
    ASSERT_TRUE(db.migrate("a", std::span(kA).first(1)).ok());
    ASSERT_TRUE(db.migrate("b", kB).ok());
    EXPECT_EQ(versionOf(db, "a"), 1);
    EXPECT_EQ(versionOf(db, "b"), 1);
  }
  Database db = open();
  // a goes on from 1 to 2; b is left alone.
  ASSERT_TRUE(db.migrate("a", kA).ok());
  ASSERT_TRUE(db.migrate("b", kB).ok());
  EXPECT_EQ(versionOf(db, "a"), 2);
  EXPECT_EQ(versionOf(db, "b"), 1);
  EXPECT_TRUE(db.execute("INSERT INTO a2 (x) VALUES (?)", int64_t{1}).ok());
}

TEST_F(DatabaseTest, AComponentNewerThanTheDaemonIsRefused) {
  Database db = open();
  ASSERT_TRUE(db.migrate("a", kA).ok());
  ASSERT_TRUE(db.exec("UPDATE schema_versions SET version = 7 WHERE component = 'a'").ok());
  auto refused = db.migrate("a", kA);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().errNo(), EPROTO);
  EXPECT_NE(refused.error().message().find("schema version 7"), std::string::npos);
}

TEST_F(DatabaseTest, AFailingStepIsRolledBackAndNotRecorded) {
  constexpr const char* kBroken[] = {"CREATE TABLE c1 (x INTEGER)",
                                     "CREATE TABLE c2 (x INTEGER); INSERT INTO nowhere VALUES (1)"};
  Database db = open();
  auto failed = db.migrate("c", kBroken);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("migrate c in "), std::string::npos)
      << failed.error().message();
  EXPECT_NE(failed.error().message().find("no such table: nowhere"), std::string::npos);
  EXPECT_EQ(versionOf(db, "c"), 1);
  // c2 was rolled back with its step; the connection is usable (no open transaction).
  EXPECT_FALSE(db.exec("SELECT * FROM c2").ok());
  EXPECT_TRUE(db.exec("BEGIN; COMMIT").ok());
}

TEST_F(DatabaseTest, ARegistryFromBeforeSchemaVersionsOpensWithItsFunctions) {
  const std::string path = dir_ + "/wick.db";
  {
    auto registry = SqliteRegistry::open(path);
    ASSERT_TRUE(registry.ok());
    FunctionRecord record;
    record.name = "kept";
    record.tags = nlohmann::json::object();
    record.internal = nlohmann::json::object();
    ASSERT_TRUE(*(*registry)->insert(record));
  }
  {
    // What a wickd from before wrote: the version in user_version alone.
    Database db = open("wick.db");
    ASSERT_TRUE(db.exec("DROP TABLE schema_versions").ok());
    EXPECT_EQ(*db.scalar("PRAGMA user_version"), 2);
  }
  auto reopened = SqliteRegistry::open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message();
  EXPECT_TRUE((*reopened)->get("kept")->has_value());
  Database db = open("wick.db");
  EXPECT_EQ(versionOf(db, "registry"), 2);
}

TEST_F(DatabaseTest, TheStoresOfEventsDbShareTheFileAndReopen) {
  const std::string path = dir_ + "/events.db";
  for (int round = 0; round < 2; ++round) {
    auto events = async::openSqliteEventStore(path);
    ASSERT_TRUE(events.ok()) << events.error().message();
    auto configs = async::openSqliteEventInvokeConfigs(path);
    ASSERT_TRUE(configs.ok()) << configs.error().message();
    auto schedules = scheduler::openSqliteScheduleStore(path);
    ASSERT_TRUE(schedules.ok()) << schedules.error().message();
    if (round == 0) {
      async::AsyncEvent event;
      event.id = "e1";
      event.function = "f";
      ASSERT_TRUE((*events)->enqueue({event}).ok());
    } else {
      EXPECT_EQ((*events)->queued("f")->size(), 1u);
    }
  }
  Database db = open("events.db");
  // events: 2 (deliveries, origins); schedules: 2 (groups, client tokens).
  for (auto [component, version] :
       {std::pair{"events", 2}, {"event_invoke_configs", 1}, {"schedules", 2}})
    EXPECT_EQ(versionOf(db, component), version) << component;
}

TEST_F(DatabaseTest, StatementHelpersReadWhatTheyWrote) {
  Database db = open();
  ASSERT_TRUE(db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)").ok());
  EXPECT_EQ(*db.execute("INSERT INTO t (k, v) VALUES (?, ?), (?, ?)", std::string("a"), int64_t{1},
                        std::string("b"), std::optional<int64_t>()),
            2);
  auto keys =
      db.rows("SELECT k FROM t ORDER BY k", [](const Statement& row) { return row.text(0); });
  EXPECT_EQ(*keys, (std::vector<std::string>{"a", "b"}));
  auto missing = db.first(
      "SELECT v FROM t WHERE k = ?", [](const Statement& row) { return row.integer(0); },
      std::string("z"));
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(*db.scalar("SELECT v FROM t WHERE k = 'a'"), 1);
  EXPECT_FALSE(db.scalar("SELECT v FROM t WHERE k = 'b'")->has_value());  // NULL
  // A failed read names SQLite's reason; a failing transaction leaves nothing.
  auto bad = db.rows("SELECT nope FROM t", [](const Statement& row) { return row.text(0); });
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("no such column: nope"), std::string::npos);
  Status rolled_back = db.transaction([&]() -> Status {
    WICK_TRY(db.execute("DELETE FROM t"), "delete");
    return Error("changed my mind");
  });
  EXPECT_FALSE(rolled_back.ok());
  EXPECT_EQ(*db.scalar("SELECT COUNT(*) FROM t"), 2);
}

}  // namespace
}  // namespace wick::registry
