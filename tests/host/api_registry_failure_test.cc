// What the API parts tell a client when the function registry fails under
// them: a 500 ServiceException whose cause only the log sees, never "no such
// function" or "invalid target". A real registry (SQLite in a file) that a
// test breaks behind its back, so that both sides are the real code paths.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "common/encoding.h"
#include "host/api/event_invoke_config_api.h"
#include "host/api/events_api.h"
#include "host/api/lambda_api.h"
#include "host/api/scheduler_api.h"
#include "host/async/event_store.h"
#include "host/registry/sqlite_registry.h"
#include "host/scheduler/schedule.h"
#include "tests/host/test_zip.h"

namespace wick::api {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using http::beast_http::verb;
using nlohmann::json;

constexpr char kStream[] = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef";

http::Request request(verb method, std::string path, std::string body = "") {
  http::Request made;
  made.method = method;
  made.path = std::move(path);
  made.body = std::move(body);
  return made;
}

class ApiRegistryFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-api-registry-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    code_ = std::make_unique<functions::LocalCodeStore>(root_ + "/code");
    layer_content_ = std::make_unique<functions::LocalCodeStore>(root_ + "/layers", "opt");
    ASSERT_TRUE(code_->prepare().ok());
    ASSERT_TRUE(layer_content_->prepare().ok());
    auto opened = registry::SqliteRegistry::open(root_ + "/registry.db");
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    registry_ = std::move(*opened);
    layers_ = std::make_unique<functions::LayerService>(*registry_, *layer_content_,
                                                        functions::LayerSettings{});
    service_ = std::make_unique<functions::FunctionService>(*registry_, *code_, *layers_, nullptr,
                                                            nullptr, functions::ServiceSettings{});
  }
  void TearDown() override {
    workers_.join();
    service_.reset();
    layers_.reset();
    registry_.reset();
    fs::remove_all(root_);
  }
  // Drops the functions table behind the registry's back.
  void breakRegistry() {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root_ + "/registry.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE functions", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  // A whole request through LambdaApi::handle (routing, the worker pool, the answer).
  http::Response lambda(http::Request sent) {
    runtimes::BaseStore bases(root_ + "/bases", "/nonexistent/build-base");
    LambdaApi api(*service_, *layers_, bases, *code_, root_ + "/logs", workers_);
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::optional<http::Response> answered;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          answered = co_await api.handle(std::move(sent));
          guard.reset();
        },
        asio::detached);
    io.run();
    EXPECT_TRUE(answered);
    return answered.value_or(http::Response{});
  }
  static void expectServiceError(const http::Response& response) {
    EXPECT_EQ(response.result_int(), 500u) << response.body();
    EXPECT_EQ(response["x-amzn-ErrorType"], "ServiceException");
    EXPECT_EQ(response.body().find("functions"), std::string::npos) << response.body();
  }
  static void expectServiceError(const functions::Outcome& outcome) {
    const auto* error = std::get_if<AwsError>(&outcome);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->status, 500);
    EXPECT_EQ(error->type, "ServiceException");
    EXPECT_EQ(error->message.find("functions"), std::string::npos) << error->message;
    EXPECT_NE(error->cause.find("no such table: functions"), std::string::npos) << error->cause;
  }

  std::string root_;
  asio::thread_pool workers_{1};
  std::unique_ptr<functions::LocalCodeStore> code_;
  std::unique_ptr<functions::LocalCodeStore> layer_content_;
  std::unique_ptr<registry::SqliteRegistry> registry_;
  std::unique_ptr<functions::LayerService> layers_;
  std::unique_ptr<functions::FunctionService> service_;
};

TEST_F(ApiRegistryFailureTest, LogsOfAFunctionThatNeverExistedAre404) {
  const auto response = lambda(request(verb::get, "/wick/v1/functions/ghost/logs"));
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_EQ(response["x-amzn-ErrorType"], "ResourceNotFoundException");
  EXPECT_NE(response.body().find("Function not found: ghost"), std::string::npos);
}

TEST_F(ApiRegistryFailureTest, LogsWhenTheRegistryFailsAre500NotFunctionNotFound) {
  breakRegistry();
  expectServiceError(lambda(request(verb::get, "/wick/v1/functions/ghost/logs")));
}

TEST_F(ApiRegistryFailureTest, AMissingLogStreamIs404WithoutTheLogsPath) {
  auto sent = request(verb::get, "/wick/v1/functions/f/logs");
  sent.query.emplace("stream", kStream);
  const auto response = lambda(std::move(sent));
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_EQ(response["x-amzn-ErrorType"], "ResourceNotFoundException");
  EXPECT_EQ(response.body().find(root_), std::string::npos) << response.body();
}

TEST_F(ApiRegistryFailureTest, AnUnreadableLogStreamIs500NotNotFound) {
  // A directory where the stream's file should be: open works, read fails (EISDIR).
  fs::create_directories(root_ + "/logs/f/" + kStream);
  auto sent = request(verb::get, "/wick/v1/functions/f/logs");
  sent.query.emplace("stream", kStream);
  const auto response = lambda(std::move(sent));
  EXPECT_EQ(response.result_int(), 500u) << response.body();
  EXPECT_EQ(response["x-amzn-ErrorType"], "ServiceException");
  EXPECT_EQ(response.body().find(root_), std::string::npos) << response.body();
}

class SchedulerTargetTest : public ApiRegistryFailureTest {
 protected:
  void SetUp() override {
    ApiRegistryFailureTest::SetUp();
    auto schedules = scheduler::openSqliteScheduleStore(root_ + "/events.db");
    ASSERT_TRUE(schedules.ok()) << schedules.error().message();
    schedules_ = std::move(*schedules);
    auto events = async::openSqliteEventStore(root_ + "/queue.db");
    ASSERT_TRUE(events.ok()) << events.error().message();
    events_ = std::move(*events);
    runner_ = std::make_unique<scheduler::ScheduleRunner>(
        *schedules_, *events_, [] {}, workers_, io_.get_executor(), scheduler::RunnerSettings{});
    api_ = std::make_unique<SchedulerApi>(*schedules_, *runner_, *service_, workers_);
  }
  void TearDown() override {
    api_.reset();
    runner_.reset();
    events_.reset();
    schedules_.reset();
    ApiRegistryFailureTest::TearDown();
  }
  functions::Outcome createSchedule() {
    const json body = {{"ScheduleExpression", "rate(5 minutes)"},
                       {"FlexibleTimeWindow", {{"Mode", "OFF"}}},
                       {"Target",
                        {{"Arn", "arn:aws:lambda:us-east-1:000000000000:function:job"},
                         {"RoleArn", "arn:aws:iam::000000000000:role/r"}}}};
    return api_->answer(request(verb::post, "/schedules/nightly", body.dump()));
  }

  asio::io_context io_;
  std::unique_ptr<scheduler::ScheduleStore> schedules_;
  std::unique_ptr<async::EventStore> events_;
  std::unique_ptr<scheduler::ScheduleRunner> runner_;
  std::unique_ptr<SchedulerApi> api_;
};

TEST_F(SchedulerTargetTest, AMissingTargetFunctionIsTheCallersValidationError) {
  const auto outcome = createSchedule();
  const auto* error = std::get_if<AwsError>(&outcome);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->status, 400);
  EXPECT_EQ(error->type, "ValidationException");
  EXPECT_NE(error->message.find("does not exist"), std::string::npos) << error->message;
}

TEST_F(SchedulerTargetTest, ARegistryFailureInTheTargetCheckIs500) {
  breakRegistry();
  expectServiceError(createSchedule());
}

class DestinationCheckTest : public ApiRegistryFailureTest {
 protected:
  void SetUp() override {
    ApiRegistryFailureTest::SetUp();
    auto configs = async::openSqliteEventInvokeConfigs(root_ + "/events.db");
    ASSERT_TRUE(configs.ok()) << configs.error().message();
    configs_ = std::move(*configs);
    api_ = std::make_unique<EventInvokeConfigApi>(*configs_, *service_, workers_);
  }
  void TearDown() override {
    api_.reset();
    configs_.reset();
    ApiRegistryFailureTest::TearDown();
  }
  std::unique_ptr<async::EventInvokeConfigs> configs_;
  std::unique_ptr<EventInvokeConfigApi> api_;
};

json createRequest(const std::string& name) {
  return {{"FunctionName", name},
          {"Runtime", "provided.al2023"},
          {"Role", "arn:aws:iam::123456789012:role/r"},
          {"Handler", "bootstrap"},
          {"Code", {{"ZipFile", base64Encode(test::zipOf("#!/bin/sh\necho 1\n"))}}}};
}

http::Request putWithDestination(const std::string& destination) {
  const json body = {{"DestinationConfig", {{"OnSuccess", {{"Destination", destination}}}}}};
  return request(verb::put, "/2019-09-25/functions/f/event-invoke-config", body.dump());
}

TEST_F(DestinationCheckTest, AMissingFunctionDestinationIsInvalid) {
  ASSERT_TRUE(std::holds_alternative<functions::Reply>(
      service_->createFunction(createRequest("f").dump())));
  const auto outcome =
      api_->answer(putWithDestination("arn:aws:lambda:us-east-1:000000000000:function:g"));
  const auto* error = std::get_if<AwsError>(&outcome);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->status, 400);
  EXPECT_EQ(error->type, "InvalidParameterValueException");
}

TEST_F(DestinationCheckTest, ARegistryFailureResolvingTheDestinationIs500NotAnInvalidArn) {
  for (const char* name : {"f", "g"})
    ASSERT_TRUE(std::holds_alternative<functions::Reply>(
        service_->createFunction(createRequest(name).dump())));
  // The target f ($LATEST) still resolves; the destination's alias cannot.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((root_ + "/registry.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE aliases", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const auto outcome =
      api_->answer(putWithDestination("arn:aws:lambda:us-east-1:000000000000:function:g:live"));
  const auto* error = std::get_if<AwsError>(&outcome);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->status, 500);
  EXPECT_EQ(error->type, "ServiceException");
  EXPECT_NE(error->cause.find("no such table: aliases"), std::string::npos) << error->cause;
}

}  // namespace
}  // namespace wick::api

namespace wick::api {
namespace {

// wick's events routes (admin socket): a failing event store is a 500 whose
// cause the log sees; the operator's client gets no SQLite text.
TEST(EventsApiFailure, AFailingEventStoreIsA500WithoutItsCause) {
  char pattern[] = "/tmp/wick-api-events-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string root = pattern;
  auto store = async::openSqliteEventStore(root + "/events.db");
  ASSERT_TRUE(store.ok()) << store.error().message();
  asio::thread_pool workers{1};
  EventsApi api(**store, nullptr, workers);
  auto listed = api.answer(request(verb::get, "/wick/v1/events"));
  EXPECT_EQ(listed.result_int(), 200u) << listed.body();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((root + "/events.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE failed_events", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  for (auto [method, path] : {std::pair{verb::get, "/wick/v1/events"},
                              {verb::delete_, "/wick/v1/events?function=f"},
                              {verb::post, "/wick/v1/events/some-id/replay"}}) {
    http::Request sent = request(method, path);
    if (method == verb::delete_) {
      sent.path = "/wick/v1/events";
      sent.query.emplace("function", "f");
    }
    auto answered = api.answer(sent);
    EXPECT_EQ(answered.result_int(), 500u) << path << ": " << answered.body();
    EXPECT_EQ(answered["x-amzn-ErrorType"], "ServiceException") << path;
    EXPECT_EQ(answered.body().find("failed_events"), std::string::npos) << answered.body();
  }
  workers.join();
  store->reset();
  fs::remove_all(root);
}

}  // namespace
}  // namespace wick::api
