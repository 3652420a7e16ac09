// The async queue's decisions (Lambda's retry and age rules) and its SQLite
// store: durable across a process killed with SIGKILL, leases, failed events
// and replay.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "host/async/async_invocations.h"
#include "host/async/event_store.h"
#include "host/async/retry_policy.h"
#include "host/async/schedule_origin.h"
#include "host/registry/sqlite.h"

namespace wick::async {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kT0 = 1'000'000;

Decision after(AttemptOutcome outcome, EventProgress progress, int64_t now,
               ErrorHandling handling = {}) {
  return decide(handling, RetryDelays{}, progress, outcome, now);
}

TEST(RetryPolicy, FunctionErrorsRetryAfterOneThenTwoMinutes) {
  auto first = after(AttemptOutcome::kFunctionError, {kT0, 1, 0}, kT0 + 10);
  ASSERT_FALSE(first.finished);
  EXPECT_EQ(first.next_attempt_ms, kT0 + 10 + 60'000);
  auto second = after(AttemptOutcome::kFunctionError, {kT0, 2, 0}, kT0 + 60'020);
  ASSERT_FALSE(second.finished);
  EXPECT_EQ(second.next_attempt_ms, kT0 + 60'020 + 120'000);
  auto third = after(AttemptOutcome::kFunctionError, {kT0, 3, 0}, kT0 + 180'030);
  ASSERT_TRUE(third.finished);
  EXPECT_EQ(third.condition, Condition::kRetriesExhausted);
}

TEST(RetryPolicy, MaximumRetryAttemptsZeroMeansOneAttempt) {
  auto decision = after(AttemptOutcome::kFunctionError, {kT0, 1, 0}, kT0, {0, 21600});
  ASSERT_TRUE(decision.finished);
  EXPECT_EQ(decision.condition, Condition::kRetriesExhausted);
}

TEST(RetryPolicy, ARetryPastTheMaximumAgeIsGivenUpAtOnce) {
  // Lambda looks ahead: an age limit of 60 s leaves room for one attempt only;
  // 90 s with two retries, two attempts.
  auto decision = after(AttemptOutcome::kFunctionError, {kT0, 1, 0}, kT0 + 100, {2, 60});
  ASSERT_TRUE(decision.finished);
  EXPECT_EQ(decision.condition, Condition::kEventAgeExceeded);
  auto second = after(AttemptOutcome::kFunctionError, {kT0, 1, 0}, kT0 + 100, {2, 90});
  EXPECT_FALSE(second.finished);
  auto third = after(AttemptOutcome::kFunctionError, {kT0, 2, 0}, kT0 + 60'200, {2, 90});
  ASSERT_TRUE(third.finished);
  EXPECT_EQ(third.condition, Condition::kEventAgeExceeded);
}

TEST(RetryPolicy, ThrottlesBackOffFromOneSecondToFiveMinutesWithoutCostingRetries) {
  int64_t now = kT0;
  std::vector<int64_t> waits;
  for (int throttles = 1; throttles <= 12; ++throttles) {
    auto decision = after(AttemptOutcome::kThrottled, {kT0, 0, throttles}, now);
    ASSERT_FALSE(decision.finished) << throttles;
    waits.push_back(decision.next_attempt_ms - now);
    now = decision.next_attempt_ms;
  }
  EXPECT_EQ(waits[0], 1'000);
  EXPECT_EQ(waits[1], 2'000);
  EXPECT_EQ(waits[8], 256'000);
  EXPECT_EQ(waits[9], 300'000);
  EXPECT_EQ(waits[11], 300'000);
  // Throttled until the event is too old: given up as EventAgeExceeded.
  auto old = after(AttemptOutcome::kThrottled, {kT0, 0, 20}, kT0 + 21'500'000);
  ASSERT_TRUE(old.finished);
  EXPECT_EQ(old.condition, Condition::kEventAgeExceeded);
}

TEST(RetryPolicy, ShortenedDelaysAreUsed) {
  RetryDelays fast{{milliseconds(100), milliseconds(200)}, milliseconds(10), milliseconds(50)};
  auto decision = decide({}, fast, {kT0, 2, 0}, AttemptOutcome::kFunctionError, kT0);
  EXPECT_EQ(decision.next_attempt_ms, kT0 + 200);
  auto throttled = decide({}, fast, {kT0, 0, 5}, AttemptOutcome::kThrottled, kT0);
  EXPECT_EQ(throttled.next_attempt_ms, kT0 + 50);
}

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-events-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<EventStore> open() {
    auto store = openSqliteEventStore(dir_ + "/events.db");
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }
  static AsyncEvent event(const std::string& id, const std::string& function, int64_t at) {
    return {id, function, "", "{\"n\":\"" + id + "\"}", at, at, 0, 0, "", ""};
  }
  std::string dir_;
};

TEST_F(EventStoreTest, AnEnqueuedEventSurvivesSigkillOfItsWriter) {
  // A child enqueues and then dies by SIGKILL: what enqueue() returned for is there.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = openSqliteEventStore(dir_ + "/events.db");
    if (!store) ::_exit(2);
    for (int i = 0; i < 50; ++i)
      if (!(*store)->enqueue(event("e" + std::to_string(i), "fn", kT0 + i))) ::_exit(3);
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit " << WEXITSTATUS(status);
  auto store = open();
  auto queued = store->queued("fn");
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->size(), 50u);
  EXPECT_EQ((*queued)[7].payload, "{\"n\":\"e7\"}");
}

TEST_F(EventStoreTest, DueEventsAreLeasedAndComeBackWhenTheLeaseRunsOut) {
  auto store = open();
  ASSERT_TRUE(store->enqueue(event("a", "fn", kT0)));
  ASSERT_TRUE(store->enqueue(event("b", "fn", kT0 + 5)));
  ASSERT_TRUE(store->enqueue(event("later", "fn", kT0 + 1000)));
  auto due = store->takeDue(kT0 + 10, 10, kT0 + 500);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].id, "a");
  EXPECT_TRUE(store->takeDue(kT0 + 10, 10, kT0 + 500)->empty()) << "leased: not taken twice";
  // The holder died: at the lease's end they are due again (at least once).
  auto again = store->takeDue(kT0 + 600, 10, kT0 + 1100);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 2u);
  ASSERT_TRUE(store->releaseLeases());
  EXPECT_EQ(*store->nextDue(), std::optional<int64_t>(kT0));
}

TEST_F(EventStoreTest, RescheduleFailReplayAndPurge) {
  auto store = open();
  ASSERT_TRUE(store->enqueue(event("a", "fn", kT0)));
  ASSERT_TRUE(store->enqueue(event("b", "other", kT0)));
  auto taken = store->takeDue(kT0, 10, kT0 + 100);
  ASSERT_EQ(taken->size(), 2u);
  AsyncEvent a = (*taken)[0].id == "a" ? (*taken)[0] : (*taken)[1];
  a.function_attempts = 1;
  a.last_error = "Unhandled: boom";
  a.next_attempt_ms = kT0 + 60'000;
  ASSERT_TRUE(store->reschedule(a));
  auto queued = store->queued("fn");
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].function_attempts, 1);
  EXPECT_EQ((*queued)[0].last_error, "Unhandled: boom");
  EXPECT_TRUE(store->takeDue(kT0 + 59'999, 10, kT0 + 70'000)->size() <= 1u);

  ASSERT_TRUE(store->moveToFailed({a, "RetriesExhausted", "{}", "no destination", kT0 + 1}));
  EXPECT_TRUE(store->queued("fn")->empty());
  auto failed = store->failed("fn");
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].condition, "RetriesExhausted");
  EXPECT_EQ((*failed)[0].event.payload, a.payload);

  EXPECT_TRUE(*store->replay("a", kT0 + 2));
  EXPECT_FALSE(*store->replay("a", kT0 + 2)) << "replayed once";
  auto back = store->queued("fn");
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].function_attempts, 0);
  EXPECT_EQ((*back)[0].next_attempt_ms, kT0 + 2);

  EXPECT_EQ(*store->purge("fn"), 1u);
  EXPECT_TRUE(store->queued("fn")->empty());
  EXPECT_EQ(store->queued("")->size(), 1u) << "other functions' events stay";
}

TEST_F(EventStoreTest, AnEventEndsWithItsDeliveriesInOneStepAndTheyAreRetriedThenKept) {
  auto store = open();
  ASSERT_TRUE(store->enqueue(event("a", "fn", kT0)));
  ASSERT_TRUE(store->takeDue(kT0, 10, kT0 + 100));
  FailedEvent failed{event("a", "fn", kT0), "RetriesExhausted", "{\"record\":1}", "", 0};
  destinations::Message record{
      "arn:aws:sqs:us-east-1:000000000000:q", false, "arn:fn", false, "{\"record\":1}", {}};
  destinations::Message letter{
      "arn:aws:sns:us-east-1:000000000000:t", true, "", false, failed.event.payload,
      {{"RequestID", "String", "a"}}};
  EventEnd end{"a",
               {event("for-destination-fn", "dest", kT0)},
               {{"d1", record, failed, 0, kT0, ""}, {"d2", letter, failed, 0, kT0 + 50, ""}},
               std::nullopt};
  ASSERT_TRUE(store->end(end));
  EXPECT_TRUE(store->queued("fn")->empty()) << "the event left the queue";
  EXPECT_EQ(store->queued("dest")->size(), 1u) << "its record for a function is queued";
  EXPECT_EQ(*store->nextDeliveryDue(), std::optional<int64_t>(kT0));

  auto due = store->takeDueDeliveries(kT0 + 10, 10, kT0 + 1000);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u) << "d2 is due later";
  PendingDelivery d1 = (*due)[0];
  EXPECT_EQ(d1.id, "d1");
  EXPECT_EQ(d1.message.target_arn, record.target_arn);
  EXPECT_EQ(d1.message.function_arn, "arn:fn");
  EXPECT_EQ(d1.failed.record, failed.record);
  EXPECT_TRUE(store->takeDueDeliveries(kT0 + 10, 10, kT0 + 1000)->empty()) << "leased";

  d1.attempts = 1;
  d1.last_error = "answered 500";
  d1.next_attempt_ms = kT0 + 3000;
  ASSERT_TRUE(store->rescheduleDelivery(d1));
  auto pending = store->deliveries("fn");
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].attempts, 1);
  EXPECT_EQ((*pending)[1].message.dead_letter, true);
  ASSERT_EQ((*pending)[1].message.attributes.size(), 1u);
  EXPECT_EQ((*pending)[1].message.attributes[0].value, "a");

  // Both given up: one failed event, both reasons.
  ASSERT_TRUE(store->giveUpDelivery(d1, "destination down", kT0 + 4000));
  ASSERT_TRUE(store->giveUpDelivery((*pending)[1], "DeadLetterConfig: down too", kT0 + 4001));
  EXPECT_TRUE(store->deliveries("")->empty());
  auto kept = store->failed("fn");
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].reason, "destination down; DeadLetterConfig: down too");
  EXPECT_EQ((*kept)[0].record, failed.record);
  EXPECT_EQ((*kept)[0].event.payload, failed.event.payload);
}

TEST_F(EventStoreTest, LeasedDeliveriesComeBackAfterARestartAndArePurgedWithTheirFunction) {
  auto store = open();
  ASSERT_TRUE(store->enqueue(event("a", "fn", kT0)));
  FailedEvent failed{event("a", "fn", kT0), "Success", "{}", "", 0};
  destinations::Message record{"arn:aws:sqs:us-east-1:000000000000:q", false, "", true, "{}", {}};
  ASSERT_TRUE(store->end({"a", {}, {{"d", record, failed, 0, kT0, ""}}, std::nullopt}));
  ASSERT_EQ(store->takeDueDeliveries(kT0, 10, kT0 + 60'000)->size(), 1u);
  store.reset();  // the daemon died holding it
  store = open();
  EXPECT_TRUE(store->takeDueDeliveries(kT0 + 1, 10, kT0 + 60'000)->empty());
  ASSERT_TRUE(store->releaseLeases());
  EXPECT_EQ(store->takeDueDeliveries(kT0 + 1, 10, kT0 + 60'000)->size(), 1u);
  EXPECT_EQ(*store->purge("fn"), 1u);
  EXPECT_TRUE(store->deliveries("")->empty());
}

TEST_F(EventStoreTest, ADeliveryRowThatDoesNotParseGivesAnEmptyMessageNotAThrow) {
  auto store = open();
  {
    auto db = registry::Database::open(dir_ + "/events.db");
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(
        "INSERT INTO deliveries (id, event_id, function, message, failed, attempts, "
        "next_attempt_ms, last_error) VALUES ('x', 'e', 'fn', '{not json', '[1,2]', 0, 0, '')"));
  }
  auto due = store->takeDueDeliveries(kT0, 10, kT0 + 1000);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].message.target_arn, "");
  EXPECT_EQ((*due)[0].failed.event.id, "");
}

TEST(ScheduleOrigin, RoundTripsAndRefusesGarbage) {
  ScheduleOrigin origin{"arn:s", "arn:t", "abc", kT0, 120, 3, "arn:aws:sqs:us-east-1:1:q"};
  auto back = parseOrigin(toOriginJson(origin));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->execution_id, "abc");
  EXPECT_EQ(back->maximum_retry_attempts, 3);
  EXPECT_EQ(back->dead_letter_arn, origin.dead_letter_arn);
  EXPECT_FALSE(parseOrigin(""));
  EXPECT_FALSE(parseOrigin("{not json"));
  EXPECT_FALSE(parseOrigin(R"({"schedule_arn": 5})"));
}

TEST(ScheduleOrigin, RetriesBackOffWithinTheRetryPolicyThenGiveUp) {
  RetryDelays delays;
  delays.throttle_first = std::chrono::milliseconds(1000);
  delays.throttle_max = std::chrono::milliseconds(8000);
  ScheduleOrigin origin{"s", "t", "e", kT0, 3600, 5, ""};
  EXPECT_TRUE(decideScheduleRetry(origin, false, 0, kT0, delays).give_up) << "not retryable";
  EXPECT_EQ(decideScheduleRetry(origin, false, 0, kT0, delays).exhausted, "");
  // 1 s, 2 s, 4 s, 8 s, 8 s: doubling up to the longest wait.
  const int64_t waits[] = {1000, 2000, 4000, 8000, 8000};
  for (int retries = 0; retries < 5; ++retries) {
    auto retry = decideScheduleRetry(origin, true, retries, kT0, delays);
    ASSERT_FALSE(retry.give_up) << retries;
    EXPECT_EQ(retry.next_attempt_ms, kT0 + waits[retries]);
  }
  auto exhausted = decideScheduleRetry(origin, true, 5, kT0, delays);
  EXPECT_TRUE(exhausted.give_up);
  EXPECT_EQ(exhausted.exhausted, "MaximumRetryAttempts");
  origin.maximum_retry_attempts = 0;
  EXPECT_EQ(decideScheduleRetry(origin, true, 0, kT0, delays).exhausted, "MaximumRetryAttempts");
  // A retry that would come after the maximum age (from the scheduled time) is not made.
  origin.maximum_retry_attempts = 185;
  origin.maximum_event_age_seconds = 60;
  EXPECT_FALSE(decideScheduleRetry(origin, true, 0, kT0 + 58'000, delays).give_up);
  auto aged = decideScheduleRetry(origin, true, 0, kT0 + 59'500, delays);
  EXPECT_TRUE(aged.give_up);
  EXPECT_EQ(aged.exhausted, "MaximumEventAgeInSeconds");
}

TEST(ScheduleOrigin, DeadLetterAttributesAreSchedulersAllStrings) {
  ScheduleOrigin origin{
      "arn:aws:scheduler:us-east-1:0:schedule/default/s", "arn:t", "e1", 1767225600000, 60, 0, "q"};
  auto attributes =
      scheduleDeadLetterAttributes(origin, "ResourceNotFoundException", "gone", 0, "");
  std::map<std::string, std::string> by_name;
  for (const auto& attribute : attributes) {
    EXPECT_EQ(attribute.data_type, "String");
    by_name[attribute.name] = attribute.value;
  }
  EXPECT_EQ(by_name.count("EXHAUSTED_RETRY_CONDITION"), 0u) << "only when a limit ended it";
  EXPECT_EQ(by_name["SCHEDULED_TIME"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(by_name["RETRY_ATTEMPTS"], "0");
  EXPECT_EQ(by_name["SCHEDULE_ARN"], origin.schedule_arn);
  EXPECT_EQ(by_name["ERROR_CODE"], "ResourceNotFoundException");
  auto exhausted = scheduleDeadLetterAttributes(origin, "E", "m", 3, "MaximumRetryAttempts");
  EXPECT_EQ(exhausted.size(), attributes.size() + 1);
}

}  // namespace
}  // namespace wick::async

namespace wick::async {
namespace {

TEST(InvocationRecord, ADeeplyNestedPayloadIsKeptWithoutRecursingPastTheStack) {
  // 1 MB of nesting is a valid event (JSON sets no depth limit). Parsed into
  // the record it made the serializer recurse once per level: a worker
  // thread's stack overflowed and wickd died of SIGSEGV.
  const size_t depth = 500'000;
  AsyncEvent event;
  event.id = "deep";
  event.payload = std::string(depth, '[') + std::string(depth, ']');
  const std::string record = invocationRecord(event, Condition::kZeroReservedConcurrency,
                                              "arn:aws:lambda:us-east-1:1:function:f", nullptr);
  const nlohmann::json parsed = nlohmann::json::parse(record, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << record.substr(0, 200);
  EXPECT_EQ(parsed["requestContext"]["condition"], "ZeroReservedConcurrency");
  // The payload is kept, verbatim, as a string.
  EXPECT_EQ(parsed["requestPayload"], event.payload);
}

}  // namespace
}  // namespace wick::async
