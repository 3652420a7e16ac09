// The pool's bookkeeping against fake environments (no sandbox): most
// recently used first, per key; retired keys; freeze after the grace;
// expiry after the keep-alive; the census.
#include "host/invoke/environment_pool.h"

#include <gtest/gtest.h>

namespace wick::invoke {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The clock the fakes are marked idle by.
Clock::time_point fake_now = Clock::time_point{} + std::chrono::hours(1);

struct FakeEnvironment {
  std::string function;
  std::string version_name;
  std::string key_name;
  int id = 0;
  bool is_frozen = false;
  Clock::time_point idle_since{};
  int marked_idle = 0;

  const std::string& key() const { return key_name; }
  const std::string& functionName() const { return function; }
  const std::string& version() const { return version_name; }
  bool frozen() const { return is_frozen; }
  Clock::time_point idleSince() const { return idle_since; }
  // As Environment: a frozen environment keeps the time it went idle.
  void markIdle() {
    ++marked_idle;
    if (!is_frozen) idle_since = fake_now;
  }
};

using Pool = BasicEnvironmentPool<FakeEnvironment>;

std::unique_ptr<FakeEnvironment> fake(int id, const std::string& function = "f",
                                      const std::string& key = "k1",
                                      const std::string& version = "$LATEST") {
  return std::make_unique<FakeEnvironment>(FakeEnvironment{function, version, key, id});
}

std::vector<int> ids(const Pool::Taken& taken) {
  std::vector<int> all;
  for (const auto& env : taken)
    all.push_back(env->id);
  return all;
}

TEST(EnvironmentPool, TakesTheMostRecentlyUsedOfTheSameKey) {
  Pool pool;
  pool.putIdle(fake(1));
  pool.putIdle(fake(2));
  pool.putIdle(fake(3, "f", "k2"));
  pool.putIdle(fake(4, "g"));
  EXPECT_EQ(pool.takeIdle("f", "k1")->id, 2);
  EXPECT_EQ(pool.takeIdle("f", "k1")->id, 1);
  EXPECT_EQ(pool.takeIdle("f", "k1"), nullptr);
  EXPECT_EQ(pool.takeIdle("nobody", "k1"), nullptr);
  EXPECT_EQ(pool.takeIdle("f", "k2")->id, 3);
  EXPECT_EQ(pool.takeIdle("g", "k1")->id, 4);
  EXPECT_TRUE(pool.census().empty());
}

TEST(EnvironmentPool, PuttingBackMarksIdleAndMakesItTheWarmest) {
  Pool pool;
  pool.putIdle(fake(1));
  pool.putIdle(fake(2));
  auto taken = pool.takeIdle("f", "k1");
  ASSERT_EQ(taken->id, 2);
  EXPECT_EQ(taken->marked_idle, 1);
  auto older = pool.takeIdle("f", "k1");  // 1, then 2 back on top of it
  pool.putIdle(std::move(older));
  pool.putIdle(std::move(taken));
  EXPECT_EQ(pool.takeIdle("f", "k1")->id, 2);
}

TEST(EnvironmentPool, RetiresOtherKeysOfTheSameVersionOnly) {
  Pool pool;
  pool.putIdle(fake(1, "f", "old", "$LATEST"));
  pool.putIdle(fake(2, "f", "new", "$LATEST"));
  pool.putIdle(fake(3, "f", "old", "1"));  // another version keeps its own
  pool.putIdle(fake(4, "g", "old", "$LATEST"));
  EXPECT_EQ(ids(pool.takeRetired("f", "$LATEST", "new")), std::vector<int>{1});
  EXPECT_EQ(pool.takeIdle("f", "old")->id, 3);
  EXPECT_EQ(ids(pool.takeFunction("g")), std::vector<int>{4});
  EXPECT_EQ(ids(pool.takeAll()), std::vector<int>{2});
}

TEST(EnvironmentPool, FreezesAfterTheGraceAndExpiresAfterTheKeepAlive) {
  Pool pool;
  const auto start = fake_now;
  pool.putIdle(fake(1));
  fake_now = start + milliseconds(30);
  pool.putIdle(fake(2));
  // 50 ms after the first went idle: only it is past a 40 ms grace.
  auto to_freeze = pool.takeUnfrozen(milliseconds(40), start + milliseconds(50));
  ASSERT_EQ(ids(to_freeze), std::vector<int>{1});
  to_freeze[0]->is_frozen = true;
  // While it is out being frozen, an invoke for its key knows to wait for it.
  EXPECT_TRUE(pool.freezing("f", to_freeze[0]->key()));
  pool.putFrozen(std::move(to_freeze[0]));  // back, keeping its idle time
  EXPECT_FALSE(pool.freezing("f", "k"));
  EXPECT_TRUE(pool.takeUnfrozen(milliseconds(40), start + milliseconds(60)).empty());
  auto census = pool.census();
  ASSERT_EQ(census.size(), 1u);
  EXPECT_EQ(census[0].function, "f");
  EXPECT_EQ(census[0].warm, 1u);
  EXPECT_EQ(census[0].frozen, 1u);
  // Keep-alive 100 ms: the first expires at 100+, the second at 130+.
  EXPECT_TRUE(pool.takeExpired(milliseconds(100), start + milliseconds(100)).empty());
  EXPECT_EQ(ids(pool.takeExpired(milliseconds(100), start + milliseconds(101))),
            std::vector<int>{1});
  EXPECT_EQ(ids(pool.takeExpired(milliseconds(100), start + milliseconds(131))),
            std::vector<int>{2});
  EXPECT_TRUE(pool.census().empty());
}

TEST(EnvironmentPool, ReclaimsTheLeastRecentlyUsedOfAnyFunction) {
  Pool pool;
  const Clock::time_point start = fake_now;
  for (int id : {1, 2, 3}) {
    fake_now = start + milliseconds(10 * id);
    pool.putIdle(fake(id, id == 2 ? "g" : "f"));
  }
  fake_now = start;
  EXPECT_EQ(pool.takeLeastRecentlyUsed()->id, 1);
  EXPECT_EQ(pool.takeLeastRecentlyUsed()->id, 2) << "whatever its function";
  EXPECT_EQ(pool.takeLeastRecentlyUsed()->id, 3);
  EXPECT_EQ(pool.takeLeastRecentlyUsed(), nullptr);
  EXPECT_TRUE(pool.census().empty()) << "emptied queues are dropped";
}

TEST(EnvironmentPool, ExpiresByEachEnvironmentsOwnKeepAlive) {
  Pool pool;
  const Clock::time_point start = fake_now;
  pool.putIdle(fake(1, "short"));
  pool.putIdle(fake(2, "long"));
  auto keep_alive = [](const FakeEnvironment& env) {
    return env.functionName() == "short" ? milliseconds(10) : milliseconds(1000);
  };
  EXPECT_EQ(ids(pool.takeExpired(keep_alive, start + milliseconds(11))), std::vector<int>{1});
  EXPECT_TRUE(pool.takeExpired(keep_alive, start + milliseconds(999)).empty());
  EXPECT_EQ(ids(pool.takeExpired(keep_alive, start + milliseconds(1001))), std::vector<int>{2});
}

TEST(EnvironmentPool, CensusCountsPerFunctionVersion) {
  Pool pool;
  pool.putIdle(fake(1, "f", "k", "1"));
  pool.putIdle(fake(2, "f", "k", "1"));
  pool.putIdle(fake(3, "f", "k", "2"));
  auto census = pool.census();
  ASSERT_EQ(census.size(), 2u);
  EXPECT_EQ(census[0].version, "1");
  EXPECT_EQ(census[0].warm, 2u);
  EXPECT_EQ(census[1].version, "2");
  EXPECT_EQ(census[1].warm, 1u);
}

}  // namespace
}  // namespace wick::invoke
