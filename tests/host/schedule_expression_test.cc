// Schedule expressions as EventBridge Scheduler reads them, in real IANA
// time zones from the host's tz database, across daylight-saving changes.
#include "host/scheduler/schedule_expression.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <sstream>

namespace wick::scheduler {
namespace {

Seconds utc(const char* text) {
  std::istringstream in(text);
  Seconds at;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", at);
  EXPECT_FALSE(in.fail()) << text;
  return at;
}

std::string iso(Seconds at) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", at);
}

// The next `count` firings after `after`.
std::vector<std::string> firings(const char* expression, const char* zone, const char* after,
                                 int count = 3, const char* anchor = "2026-01-01T00:00:00Z") {
  auto parsed = parseScheduleExpression(expression);
  EXPECT_TRUE(parsed) << expression;
  std::vector<std::string> out;
  Seconds at = utc(after);
  for (int i = 0; parsed && i < count; ++i) {
    auto next = nextFiring(*parsed, zone, at, utc(anchor));
    EXPECT_TRUE(next) << next.error().message();
    if (!next || !*next) break;
    at = **next;
    out.push_back(iso(at));
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(ScheduleExpressions, InvalidOnesAreRefusedAsSchedulerDoes) {
  for (const char* bad :
       {"rate(10 seconds)", "rate(1 minutes)", "rate(5 minute)", "rate(0 hours)", "rate(5minutes)",
        "at(2021-12-31T23:59:59Z)", "at(2021-12-31)", "cron(0 1 * * * *)", "cron(0 1 ? * ? *)",
        "cron(0 1 * * ?)", "cron(60 1 * * ? *)", "cron(0 1 32 * ? *)", "cron(0 1 ? * 8 *)",
        "cron(0 1 ? * 2#6 *)", "cron(0 1 * * ? 1969)", "every(5 minutes)"}) {
    auto parsed = parseScheduleExpression(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().message(), std::string("Invalid Schedule Expression ") + bad + ".");
  }
}

TEST(ScheduleExpressions, AHugeStepIsOneValueNotAnOverflow) {
  // A step past the end of the field's range leaves only its start; the
  // sum of the two must not overflow (it did: a bitset::set out of range
  // escaped as an exception, CreateSchedule answered 500).
  EXPECT_EQ(firings("cron(1/2147483647 * * * ? *)", "UTC", "2026-01-01T00:00:00Z", 2),
            (Strings{"2026-01-01T00:01:00Z", "2026-01-01T01:01:00Z"}));
  EXPECT_EQ(firings("cron(0 0 1 1 ? 2199/2147483647)", "UTC", "2026-01-01T00:00:00Z", 1),
            (Strings{"2199-01-01T00:00:00Z"}));
  for (const char* expression : {"cron(59/2147483647 * * * ? *)", "cron(0 23/2147483647 * * ? *)",
                                 "cron(0 0 31/2147483647 * ? *)", "cron(0 0 ? 12/2147483647 * *)",
                                 "cron(0 0 ? * 7/2147483647 *)", "cron(0-59/2147483647 * * * ? *)"})
    EXPECT_TRUE(parseScheduleExpression(expression)) << expression;
}

TEST(ScheduleExpressions, CronDailyInBerlinFollowsItsOffset) {
  // 02:00 CET is 01:00Z; on 29 March 02:00 is skipped (it fires at the gap's
  // end, 03:00 CEST, also 01:00Z); then 02:00 CEST is 00:00Z.
  EXPECT_EQ(firings("cron(0 2 * * ? *)", "Europe/Berlin", "2026-03-27T12:00:00Z"),
            (Strings{"2026-03-28T01:00:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"}));
}

TEST(ScheduleExpressions, CronFieldsListsRangesStepsAndNames) {
  EXPECT_EQ(firings("cron(0/20 9-10 ? JAN MON-FRI 2026)", "UTC", "2026-01-02T10:30:00Z", 4),
            (Strings{"2026-01-02T10:40:00Z", "2026-01-05T09:00:00Z", "2026-01-05T09:20:00Z",
                     "2026-01-05T09:40:00Z"}));
  EXPECT_EQ(firings("cron(15 12 1,15 * ? *)", "UTC", "2026-05-01T12:15:00Z", 2),
            (Strings{"2026-05-15T12:15:00Z", "2026-06-01T12:15:00Z"}));
}

TEST(ScheduleExpressions, LastWeekdayAndNth) {
  // L: the last day of the month; LW: its last weekday; 15W: the weekday nearest the 15th.
  EXPECT_EQ(firings("cron(0 0 L * ? *)", "UTC", "2026-01-31T00:00:00Z", 2),
            (Strings{"2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"}));
  EXPECT_EQ(firings("cron(0 0 LW * ? *)", "UTC", "2026-01-01T00:00:00Z", 2),
            (Strings{"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z"}));
  EXPECT_EQ(
      firings("cron(0 0 15W * ? *)", "UTC", "2026-03-01T00:00:00Z", 2),
      (Strings{"2026-03-16T00:00:00Z", "2026-04-15T00:00:00Z"}));  // the 15th of March is a Sunday
  // 6#3: the third Friday; 2L: the last Monday.
  EXPECT_EQ(firings("cron(0 0 ? * 6#3 *)", "UTC", "2026-01-01T00:00:00Z", 2),
            (Strings{"2026-01-16T00:00:00Z", "2026-02-20T00:00:00Z"}));
  EXPECT_EQ(firings("cron(0 0 ? * 2L *)", "UTC", "2026-01-01T00:00:00Z", 2),
            (Strings{"2026-01-26T00:00:00Z", "2026-02-23T00:00:00Z"}));
}

TEST(ScheduleExpressions, TheSkippedHourFiresOnceAfterTheGapAndTheRepeatedHourOnce) {
  // New York, 8 March 2026: 02:00 local does not exist (clocks go to 03:00).
  EXPECT_EQ(firings("cron(30 2 * * ? *)", "America/New_York", "2026-03-07T12:00:00Z", 3),
            (Strings{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"}));
  // 1 November 2026: 01:30 local happens twice; it fires at the first.
  EXPECT_EQ(firings("cron(30 1 * * ? *)", "America/New_York", "2026-10-31T12:00:00Z", 2),
            (Strings{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}));
}

TEST(ScheduleExpressions, CronYearsRunOut) {
  auto parsed = parseScheduleExpression("cron(0 0 1 1 ? 2026)");
  ASSERT_TRUE(parsed);
  auto next = nextFiring(*parsed, "UTC", utc("2026-06-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(next);
  EXPECT_FALSE(*next);
}

TEST(ScheduleExpressions, RateCountsFromItsAnchor) {
  EXPECT_EQ(firings("rate(5 minutes)", "UTC", "2026-01-01T00:07:00Z", 2, "2026-01-01T00:01:00Z"),
            (Strings{"2026-01-01T00:11:00Z", "2026-01-01T00:16:00Z"}));
  EXPECT_EQ(firings("rate(1 day)", "UTC", "2025-12-01T00:00:00Z", 1, "2026-01-01T06:00:00Z"),
            (Strings{"2026-01-02T06:00:00Z"}));
}

TEST(ScheduleExpressions, AtIsALocalTimeThatFiresOnce) {
  EXPECT_EQ(firings("at(2026-07-01T09:30:00)", "Asia/Tokyo", "2026-06-01T00:00:00Z", 3),
            (Strings{"2026-07-01T00:30:00Z"}));
  auto unknown = parseScheduleExpression("at(2026-07-01T09:30:00)");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(nextFiring(*unknown, "Mars/Olympus", utc("2026-01-01T00:00:00Z"),
                          utc("2026-01-01T00:00:00Z")));
  EXPECT_TRUE(knownTimeZone("Europe/Berlin"));
  EXPECT_FALSE(knownTimeZone("Mars/Olympus"));
}

}  // namespace
}  // namespace wick::scheduler
