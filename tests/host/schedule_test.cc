// The schedule store and the firing decisions (host/scheduler/schedule.h,
// firing.h, schedule_runner.h), against real SQLite files.
#include "host/scheduler/schedule.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "host/async/event_store.h"
#include "host/registry/sqlite.h"
#include "host/scheduler/firing.h"
#include "host/scheduler/schedule_runner.h"

namespace wick::scheduler {
namespace {

constexpr int64_t kMinute = 60'000;
// 2026-01-01T00:00:00Z
constexpr int64_t kT0 = 1767225600'000;

Schedule rateSchedule(const std::string& name, const std::string& expression) {
  Schedule s;
  s.name = name;
  s.expression = expression;
  s.target_arn = "arn:aws:lambda:us-east-1:000000000000:function:job";
  s.role_arn = "arn:aws:iam::000000000000:role/any";
  s.created_ms = s.modified_ms = kT0;
  return s;
}

ScheduleExpression parsed(const std::string& text) {
  auto expression = parseScheduleExpression(text);
  EXPECT_TRUE(expression) << text;
  return *expression;
}

TEST(ScheduleFiring, RateCountsFromCreationAndStopsAtTheEndDate) {
  Schedule s = rateSchedule("r", "rate(5 minutes)");
  s.end_ms = kT0 + 12 * kMinute;
  const Clock clock{kT0, 60000};
  auto first = firingAfter(s, parsed(s.expression), kT0, clock);
  ASSERT_TRUE(first);
  EXPECT_EQ(**first, kT0 + 5 * kMinute);
  auto second = firingAfter(s, parsed(s.expression), **first, clock);
  EXPECT_EQ(**second, kT0 + 10 * kMinute);
  auto past_end = firingAfter(s, parsed(s.expression), **second, clock);
  ASSERT_TRUE(past_end);
  EXPECT_FALSE(*past_end);
}

TEST(ScheduleFiring, AShortenedMinuteScalesRate) {
  Schedule s = rateSchedule("r", "rate(2 minutes)");
  auto next = firingAfter(s, parsed(s.expression), kT0 + 1, {kT0, 1000});
  EXPECT_EQ(**next, kT0 + 2000);
}

TEST(ScheduleFiring, MissedFiringsWithinTheMaximumAgeAreDeliveredLateOlderOnesDropped) {
  Schedule s = rateSchedule("r", "rate(1 minute)");
  s.maximum_event_age_seconds = 600;  // 10 minutes
  s.next_ms = kT0 + kMinute;
  // Down for an hour: firings at minutes 1..60; those of the last 10 minutes
  // and the one at its edge (50..60) are delivered, the 49 before dropped.
  const Clock clock{kT0 + 60 * kMinute, 60000};
  auto plan = planFirings(s, parsed(s.expression), clock);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->deliver.size(), 11u);
  EXPECT_EQ(plan->deliver.front(), kT0 + 50 * kMinute);
  EXPECT_EQ(plan->deliver.back(), kT0 + 59 * kMinute + kMinute);
  EXPECT_EQ(plan->dropped, 49u);
  EXPECT_EQ(plan->next_ms, kT0 + 61 * kMinute);
  EXPECT_FALSE(plan->finished);
}

TEST(ScheduleFiring, AtMostAHundredLateFiringsPerSchedule) {
  Schedule s = rateSchedule("r", "rate(1 minute)");
  s.next_ms = kT0 + kMinute;
  const Clock clock{kT0 + 300 * kMinute, 60000};
  auto plan = planFirings(s, parsed(s.expression), clock);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->deliver.size(), kMaxLateFirings);
  EXPECT_EQ(plan->dropped, 200u);
  EXPECT_EQ(plan->next_ms, kT0 + 301 * kMinute);
}

TEST(ScheduleFiring, AnAtScheduleFiresOnceThenIsFinished) {
  Schedule s = rateSchedule("once", "at(2026-01-01T00:10:00)");
  auto first = firingAfter(s, parsed(s.expression), kT0, {kT0, 60000});
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(**first, kT0 + 10 * kMinute);
  s.next_ms = **first;
  auto plan = planFirings(s, parsed(s.expression), {kT0 + 10 * kMinute + 500, 60000});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->deliver, std::vector<int64_t>{kT0 + 10 * kMinute});
  EXPECT_TRUE(plan->finished);
}

TEST(ScheduleFiring, InputGetsTheContextAttributesTheDefaultNotificationOtherwise) {
  Schedule s = rateSchedule("r", "rate(1 minute)");
  s.input = R"({"arn":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>",)"
            R"("id":"<aws.scheduler.execution-id>","n":"<aws.scheduler.attempt-number>"})";
  const FiringContext context{"arn:aws:scheduler:us-east-1:000000000000:schedule/default/r",
                              kT0 + 5 * kMinute, "d32c5kddcf5bb8c3", "000000000000", "us-east-1"};
  auto event = nlohmann::json::parse(firingPayload(s, context));
  EXPECT_EQ(event["arn"], context.schedule_arn);
  EXPECT_EQ(event["at"], "2026-01-01T00:05:00Z");
  EXPECT_EQ(event["id"], "d32c5kddcf5bb8c3");
  EXPECT_EQ(event["n"], "1");
  s.input.reset();
  auto notification = nlohmann::json::parse(firingPayload(s, context));
  EXPECT_EQ(notification["detail-type"], "Scheduled Event");
  EXPECT_EQ(notification["source"], "aws.scheduler");
  EXPECT_EQ(notification["detail"], "{}");
  EXPECT_EQ(notification["resources"][0], context.schedule_arn);
  EXPECT_EQ(notification["time"], "2026-01-01T00:05:00Z");
}

TEST(ScheduleFiring, AFlexibleWindowSpreadsDeliveryWithinIt) {
  Schedule s = rateSchedule("r", "rate(1 minute)");
  s.flexible_mode = "FLEXIBLE";
  s.flexible_window_minutes = 15;
  std::mt19937_64 random(42);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    const int64_t at = deliveryTime(s, kT0, {kT0, 60000}, random);
    EXPECT_GE(at, kT0);
    EXPECT_LE(at, kT0 + 15 * kMinute);
    seen.insert(at);
  }
  EXPECT_GT(seen.size(), 40u);
  s.flexible_mode = "OFF";
  EXPECT_EQ(deliveryTime(s, kT0, {kT0, 60000}, random), kT0);
}

class ScheduleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-schedule-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<ScheduleStore> open() {
    auto store = openSqliteScheduleStore(dir_ + "/events.db");
    EXPECT_TRUE(store) << (store ? "" : store.error().message());
    return std::move(*store);
  }
  std::string dir_;
};

TEST_F(ScheduleStoreTest, CreateConflictReplaceRemoveAndReopen) {
  Schedule s = rateSchedule("nightly", "rate(1 hour)");
  s.next_ms = s.due_ms = kT0 + 60 * kMinute;
  {
    auto store = open();
    EXPECT_TRUE(*store->create(s));
    EXPECT_FALSE(*store->create(s));  // exists
    Schedule changed = s;
    changed.modified_ms = kT0 + 1;
    changed.description = "changed";
    EXPECT_FALSE(*store->replace(changed, kT0 - 5));  // someone else's version
    EXPECT_TRUE(*store->replace(changed, kT0));
  }
  auto store = open();  // a restart: what was committed is there
  auto got = store->get("default", "nightly");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->description, "changed");
  EXPECT_EQ((*got)->next_ms, kT0 + 60 * kMinute);
  EXPECT_EQ(*store->nextDue(), kT0 + 60 * kMinute);
  EXPECT_TRUE(store->due(kT0)->empty());
  EXPECT_EQ(store->due(kT0 + 60 * kMinute)->size(), 1u);
  EXPECT_FALSE(*store->remove("default", "nightly", kT0));  // stale version
  EXPECT_TRUE(*store->remove("default", "nightly"));
  EXPECT_FALSE((*store->get("default", "nightly")).has_value());
}

TEST_F(ScheduleStoreTest, DisabledSchedulesAreNeverDue) {
  auto store = open();
  Schedule s = rateSchedule("off", "rate(1 minute)");
  s.state = "DISABLED";
  s.next_ms = s.due_ms = kT0;
  ASSERT_TRUE(*store->create(s));
  EXPECT_TRUE(store->due(kT0 + kMinute)->empty());
  EXPECT_FALSE(*store->nextDue());
}

TEST_F(ScheduleStoreTest, TheRunnerEnqueuesThenAdvancesAndDeletesAfterCompletion) {
  auto schedules = open();
  auto events = async::openSqliteEventStore(dir_ + "/queue.db");
  ASSERT_TRUE(events);
  boost::asio::io_context io;
  boost::asio::thread_pool workers(1);
  int wakes = 0;
  ScheduleRunner runner(*schedules, **events, [&] { ++wakes; }, workers, io.get_executor(),
                        {.scope = {}, .minute_ms = 60000});
  Schedule every = rateSchedule("every", "rate(1 minute)");
  every.input = R"({"schedule":"<aws.scheduler.schedule-arn>"})";
  every.next_ms = every.due_ms = kT0 + kMinute;
  Schedule once = rateSchedule("once", "at(2026-01-01T00:01:00)");
  once.action_after_completion = "DELETE";
  once.next_ms = once.due_ms = kT0 + kMinute;
  ASSERT_TRUE(*schedules->create(every));
  ASSERT_TRUE(*schedules->create(once));

  EXPECT_EQ(*runner.fireDue(kT0 + kMinute - 1), 0u);  // not yet
  auto fired = runner.fireDue(kT0 + kMinute + 10);
  ASSERT_TRUE(fired) << fired.error().message();
  EXPECT_EQ(*fired, 2u);
  EXPECT_EQ(wakes, 2);
  auto queued = (*events)->queued("job");
  ASSERT_EQ(queued->size(), 2u);
  std::set<std::string> payloads;
  for (const auto& event : *queued)
    payloads.insert(event.payload);
  EXPECT_TRUE(payloads.count(
      R"({"schedule":"arn:aws:scheduler:us-east-1:000000000000:schedule/default/every"})"));
  // The rate schedule moved on; the at() one is gone (ActionAfterCompletion DELETE).
  EXPECT_EQ((*schedules->get("default", "every"))->next_ms, kT0 + 2 * kMinute);
  EXPECT_FALSE((*schedules->get("default", "once")).has_value());
  EXPECT_EQ(*runner.fireDue(kT0 + kMinute + 20), 0u);  // fired once only
}

TEST_F(ScheduleStoreTest, AFinishedScheduleWithoutDeleteStaysWithNoNextFiring) {
  auto schedules = open();
  auto events = async::openSqliteEventStore(dir_ + "/queue.db");
  boost::asio::io_context io;
  boost::asio::thread_pool workers(1);
  ScheduleRunner runner(*schedules, **events, [] {}, workers, io.get_executor(), {});
  Schedule s = rateSchedule("ending", "rate(1 minute)");
  s.end_ms = kT0 + kMinute + 30'000;
  s.next_ms = s.due_ms = kT0 + kMinute;
  ASSERT_TRUE(*schedules->create(s));
  EXPECT_EQ(*runner.fireDue(kT0 + 5 * kMinute), 1u);  // the one before the end date, late
  auto kept = schedules->get("default", "ending");
  ASSERT_TRUE(*kept);
  EXPECT_FALSE((*kept)->next_ms);
  EXPECT_FALSE(*schedules->nextDue());
}

TEST_F(ScheduleStoreTest, GroupsKeepSchedulesApartAndTakeThemWhenDeleted) {
  auto store = open();
  auto groups = store->listGroups();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].name, "default") << "always there";
  EXPECT_TRUE(*store->createGroup({"team", kT0, kT0}));
  EXPECT_FALSE(*store->createGroup({"team", kT0, kT0})) << "exists";
  Schedule in_default = rateSchedule("same", "rate(1 hour)");
  Schedule in_team = rateSchedule("same", "rate(2 hours)");
  in_team.group = "team";
  in_team.next_ms = in_team.due_ms = kT0;
  ASSERT_TRUE(*store->create(in_default));
  ASSERT_TRUE(*store->create(in_team)) << "the same name in another group";
  EXPECT_EQ((*store->get("team", "same"))->expression, "rate(2 hours)");
  EXPECT_EQ(store->list()->size(), 2u);
  EXPECT_EQ(store->due(kT0)->size(), 1u);
  EXPECT_EQ(*store->removeGroup("team"), std::optional<size_t>(1));
  EXPECT_FALSE(*store->removeGroup("team")) << "gone";
  EXPECT_FALSE(store->get("team", "same")->has_value());
  EXPECT_TRUE(store->get("default", "same")->has_value());
  EXPECT_TRUE(store->due(kT0)->empty());
}

TEST_F(ScheduleStoreTest, ClientTokensAreRememberedForTheirLifeOnly) {
  auto store = open();
  EXPECT_FALSE(*store->tokenUse("t1", kT0));
  ASSERT_TRUE(store->rememberToken("t1", {"CreateSchedule\na", "{\"ScheduleArn\":\"x\"}"}, kT0,
                                   kT0 - 1000));
  auto used = store->tokenUse("t1", kT0 - 1000);
  ASSERT_TRUE(used && *used);
  EXPECT_EQ((*used)->request, "CreateSchedule\na");
  EXPECT_FALSE(*store->tokenUse("t1", kT0 + 1)) << "older than asked for";
  ASSERT_TRUE(store->rememberToken("t2", {"r", "{}"}, kT0 + 5000, kT0 + 1));
  EXPECT_FALSE(*store->tokenUse("t1", 0)) << "forgotten when a newer one came";
}

TEST_F(ScheduleStoreTest, AStoreFromBeforeGroupsIsCarriedIntoTheDefaultGroup) {
  {
    auto db = registry::Database::open(dir_ + "/events.db");
    ASSERT_TRUE(db);
    Schedule old = rateSchedule("old", "rate(1 hour)");
    ASSERT_TRUE(db->exec(
        "CREATE TABLE schedules (name TEXT PRIMARY KEY, enabled INTEGER NOT NULL, due_ms "
        "INTEGER, modified_ms INTEGER NOT NULL, document TEXT NOT NULL); INSERT INTO schedules "
        "VALUES ('old', 1, NULL, 1, '" +
        toStoredJson(old).dump() + "')"));
  }
  auto store = open();
  auto got = store->get("default", "old");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->expression, "rate(1 hour)");
}

}  // namespace
}  // namespace wick::scheduler
