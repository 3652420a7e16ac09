// FunctionService against a real SQLite registry (in memory, or a file when a
// test breaks the database behind its back) and a real code store in a temp
// directory: creation, updates with optimistic locking, code release,
// publishing, aliases and their validation, and what a registry failure
// tells the client.
#include "host/functions/function_service.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "common/encoding.h"
#include "host/registry/sqlite_registry.h"
#include "tests/host/test_zip.h"

namespace wick::functions {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using test::zipOf;

json createRequest(const std::string& name, const std::string& code = "#!/bin/sh\necho 1\n") {
  return {{"FunctionName", name},
          {"Runtime", "provided.al2023"},
          {"Role", "arn:aws:iam::123456789012:role/r"},
          {"Handler", "bootstrap"},
          {"Code", {{"ZipFile", base64Encode(zipOf(code))}}}};
}

const json& bodyOf(const Outcome& outcome) {
  static const json kNone;
  if (auto* error = std::get_if<api::AwsError>(&outcome)) {
    ADD_FAILURE() << error->type << ": " << error->message << " (" << error->cause << ")";
    return kNone;
  }
  static json body;
  body = std::get<Reply>(outcome).body.value_or(json());
  return body;
}

api::AwsError errorOf(const Outcome& outcome) {
  if (auto* error = std::get_if<api::AwsError>(&outcome)) return *error;
  ADD_FAILURE() << "expected an error, got " << std::get<Reply>(outcome).status;
  return {};
}

class FunctionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-function-service-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    code_ = std::make_unique<LocalCodeStore>(root_ + "/code");
    layer_content_ = std::make_unique<LocalCodeStore>(root_ + "/layers", "opt");
    ASSERT_TRUE(code_->prepare().ok());
    ASSERT_TRUE(layer_content_->prepare().ok());
    open(":memory:");
  }
  void TearDown() override {
    service_.reset();
    layers_.reset();
    registry_.reset();
    fs::remove_all(root_);
  }
  void open(const std::string& database) {
    service_.reset();
    layers_.reset();
    auto opened = registry::SqliteRegistry::open(database);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    registry_ = std::move(*opened);
    layers_ = std::make_unique<LayerService>(*registry_, *layer_content_, LayerSettings{});
    service_ = std::make_unique<FunctionService>(*registry_, *code_, *layers_, nullptr, nullptr,
                                                 ServiceSettings{});
  }
  std::string zipSha256(const std::string& code) { return toHex(sha256(zipOf(code))); }
  bool storeHas(const std::string& sha256_hex) {
    return fs::exists(code_->zipPath(sha256_hex)) && fs::exists(code_->treePath(sha256_hex));
  }

  std::string root_;
  std::unique_ptr<LocalCodeStore> code_;
  std::unique_ptr<LocalCodeStore> layer_content_;
  std::unique_ptr<registry::SqliteRegistry> registry_;
  std::unique_ptr<LayerService> layers_;
  std::unique_ptr<FunctionService> service_;
};

TEST_F(FunctionServiceTest, CreateKeepsTheCodeAndAnswersPendingThenActive) {
  auto created = service_->createFunction(createRequest("f").dump());
  ASSERT_EQ(std::get<Reply>(created).status, 201);
  const json reply = bodyOf(created);
  EXPECT_EQ(reply["State"], "Pending");
  EXPECT_EQ(reply["Version"], "$LATEST");
  EXPECT_EQ(reply["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:f");
  const std::string sha = zipSha256("#!/bin/sh\necho 1\n");
  EXPECT_EQ(reply["CodeSha256"], base64Encode(fromHex(sha).value()));
  EXPECT_TRUE(storeHas(sha));
  const json got = bodyOf(service_->getFunction("f", ""));
  EXPECT_EQ(got["Configuration"]["State"], "Active");
  EXPECT_EQ(got["Configuration"]["Timeout"], 3);
  EXPECT_EQ(got["Configuration"]["RevisionId"], reply["RevisionId"]);
}

TEST_F(FunctionServiceTest, CreateRefusesBadRequestsWithLambdasErrors) {
  EXPECT_EQ(errorOf(service_->createFunction("[1]")).type, "InvalidRequestContentException");
  EXPECT_EQ(errorOf(service_->createFunction("{}")).type, "ValidationException");
  json request = createRequest("bad name!");
  EXPECT_EQ(errorOf(service_->createFunction(request.dump())).type, "ValidationException");
  request = createRequest("f:1");  // a qualifier has no place here
  EXPECT_EQ(errorOf(service_->createFunction(request.dump())).type, "ValidationException");
  request = createRequest("f");
  request.erase("Code");
  EXPECT_EQ(errorOf(service_->createFunction(request.dump())).type, "ValidationException");
  request = createRequest("f");
  request["Code"] = {{"ZipFile", "not base64!!"}};
  EXPECT_EQ(errorOf(service_->createFunction(request.dump())).type,
            "InvalidParameterValueException");
  request = createRequest("f");
  request["Code"] = {{"S3Bucket", "b"}, {"S3Key", "k"}};
  EXPECT_EQ(errorOf(service_->createFunction(request.dump())).type,
            "InvalidParameterValueException");
  request = createRequest("f");
  request["Timeout"] = 901;
  EXPECT_EQ(errorOf(service_->createFunction(request.dump())).type, "ValidationException");
  request = createRequest("f");
  request["VpcConfig"] = {{"SubnetIds", {"s"}}};  // no networks on this host
  EXPECT_EQ(errorOf(service_->createFunction(request.dump())).type,
            "InvalidParameterValueException");
  // Nothing of the refused requests was kept.
  EXPECT_EQ(registry_->count().value(), 0);
  const auto error = errorOf(service_->getFunction("f", ""));
  EXPECT_EQ(error.type, "ResourceNotFoundException");
  EXPECT_EQ(error.status, 404);
}

TEST_F(FunctionServiceTest, ASecondCreateOfTheSameNameIsAConflict) {
  ASSERT_EQ(std::get<Reply>(service_->createFunction(createRequest("f").dump())).status, 201);
  const auto error = errorOf(service_->createFunction(createRequest("f").dump()));
  EXPECT_EQ(error.status, 409);
  EXPECT_EQ(error.type, "ResourceConflictException");
}

TEST_F(FunctionServiceTest, UpdateConfigurationHonoursRevisionIdAndValidates) {
  const json created = bodyOf(service_->createFunction(createRequest("f").dump()));
  const auto stale = errorOf(service_->updateFunctionConfiguration(
      "f", json{{"Timeout", 10}, {"RevisionId", "not-the-current-one"}}.dump()));
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.type, "PreconditionFailedException");
  EXPECT_EQ(
      errorOf(service_->updateFunctionConfiguration("f", json{{"MemorySize", 64}}.dump())).type,
      "ValidationException");
  const json updated = bodyOf(service_->updateFunctionConfiguration(
      "f", json{{"Timeout", 10}, {"RevisionId", created["RevisionId"]}}.dump()));
  EXPECT_EQ(updated["Timeout"], 10);
  EXPECT_EQ(updated["LastUpdateStatus"], "InProgress");
  EXPECT_NE(updated["RevisionId"], created["RevisionId"]);
  EXPECT_EQ(bodyOf(service_->getFunctionConfiguration("f", ""))["Timeout"], 10);
  EXPECT_EQ(errorOf(service_->updateFunctionConfiguration("nobody", "{}")).status, 404);
}

TEST_F(FunctionServiceTest, UpdateCodeReleasesTheZipNoOneUsesAnyMore) {
  ASSERT_EQ(std::get<Reply>(service_->createFunction(createRequest("f", "one").dump())).status,
            201);
  ASSERT_EQ(std::get<Reply>(service_->createFunction(createRequest("g", "one").dump())).status,
            201);
  const std::string one = zipSha256("one");
  const std::string two = zipSha256("two");
  const json code = {{"ZipFile", base64Encode(zipOf("two"))}};
  // A dry run keeps nothing.
  json dry = code;
  dry["DryRun"] = true;
  ASSERT_FALSE(
      std::holds_alternative<api::AwsError>(service_->updateFunctionCode("f", dry.dump())));
  EXPECT_FALSE(storeHas(two));
  ASSERT_FALSE(
      std::holds_alternative<api::AwsError>(service_->updateFunctionCode("f", code.dump())));
  EXPECT_TRUE(storeHas(two));
  EXPECT_TRUE(storeHas(one));  // g still runs it
  ASSERT_FALSE(
      std::holds_alternative<api::AwsError>(service_->updateFunctionCode("g", code.dump())));
  EXPECT_FALSE(fs::exists(code_->zipPath(one)));
  ASSERT_FALSE(std::holds_alternative<api::AwsError>(service_->deleteFunction("f", "")));
  EXPECT_TRUE(storeHas(two));
  ASSERT_FALSE(std::holds_alternative<api::AwsError>(service_->deleteFunction("g", "")));
  EXPECT_FALSE(fs::exists(code_->zipPath(two)));
}

TEST_F(FunctionServiceTest, PublishNumbersVersionsAndReusesAnUnchangedOne) {
  ASSERT_EQ(std::get<Reply>(service_->createFunction(createRequest("f").dump())).status, 201);
  EXPECT_EQ(bodyOf(service_->publishVersion("f", "{}"))["Version"], "1");
  EXPECT_EQ(bodyOf(service_->publishVersion("f", "{}"))["Version"], "1");  // nothing changed
  const auto wrong_sha = errorOf(service_->publishVersion("f", json{{"CodeSha256", "x"}}.dump()));
  EXPECT_EQ(wrong_sha.type, "InvalidParameterValueException");
  bodyOf(service_->updateFunctionConfiguration("f", json{{"Timeout", 9}}.dump()));
  const json two = bodyOf(service_->publishVersion("f", json{{"Description", "nine"}}.dump()));
  EXPECT_EQ(two["Version"], "2");
  EXPECT_EQ(two["Description"], "nine");
  EXPECT_EQ(two["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:f:2");
  EXPECT_EQ(bodyOf(service_->getFunctionConfiguration("f", "1"))["Timeout"], 3);
  EXPECT_EQ(bodyOf(service_->getFunctionConfiguration("f:2", ""))["Timeout"], 9);
  EXPECT_EQ(errorOf(service_->getFunctionConfiguration("f", "3")).status, 404);
  EXPECT_EQ(errorOf(service_->getFunctionConfiguration("f:1", "2")).type,
            "InvalidParameterValueException");
  // A deleted version's number is never reused.
  ASSERT_FALSE(std::holds_alternative<api::AwsError>(service_->deleteFunction("f", "2")));
  bodyOf(service_->updateFunctionConfiguration("f", json{{"Timeout", 8}}.dump()));
  EXPECT_EQ(bodyOf(service_->publishVersion("f", "{}"))["Version"], "3");
  const json listed = bodyOf(service_->listVersionsByFunction("f", "", ""));
  ASSERT_EQ(listed["Versions"].size(), 3u);
  EXPECT_EQ(listed["Versions"][0]["Version"], "$LATEST");
  EXPECT_EQ(listed["Versions"][2]["Version"], "3");
}

TEST_F(FunctionServiceTest, AliasesAreValidatedAndRouteByWeight) {
  ASSERT_EQ(std::get<Reply>(service_->createFunction(createRequest("f").dump())).status, 201);
  bodyOf(service_->publishVersion("f", "{}"));
  bodyOf(service_->updateFunctionConfiguration("f", json{{"Timeout", 9}}.dump()));
  bodyOf(service_->publishVersion("f", "{}"));
  auto alias = [&](json request) { return service_->createAlias("f", request.dump()); };
  EXPECT_EQ(errorOf(alias({{"Name", "123"}, {"FunctionVersion", "1"}})).type,
            "ValidationException");  // all digits: a version, not an alias
  EXPECT_EQ(errorOf(alias({{"Name", "live"}, {"FunctionVersion", "v1"}})).type,
            "ValidationException");
  EXPECT_EQ(errorOf(alias({{"Name", "live"}, {"FunctionVersion", "7"}})).status, 404);
  EXPECT_EQ(errorOf(alias({{"Name", "live"},
                           {"FunctionVersion", "1"},
                           {"RoutingConfig", {{"AdditionalVersionWeights", {{"2", 1.5}}}}}}))
                .type,
            "ValidationException");
  EXPECT_EQ(errorOf(alias({{"Name", "live"},
                           {"FunctionVersion", "$LATEST"},
                           {"RoutingConfig", {{"AdditionalVersionWeights", {{"2", 0.5}}}}}}))
                .type,
            "InvalidParameterValueException");
  EXPECT_EQ(errorOf(alias({{"Name", "live"},
                           {"FunctionVersion", "1"},
                           {"RoutingConfig", {{"AdditionalVersionWeights", {{"1", 0.5}}}}}}))
                .type,
            "InvalidParameterValueException");
  const json created =
      bodyOf(alias({{"Name", "live"},
                    {"FunctionVersion", "1"},
                    {"RoutingConfig", {{"AdditionalVersionWeights", {{"2", 0.3}}}}}}));
  EXPECT_EQ(created["AliasArn"], "arn:aws:lambda:us-east-1:000000000000:function:f:live");
  EXPECT_EQ(errorOf(alias({{"Name", "live"}, {"FunctionVersion", "1"}})).status, 409);

  // The invoke path sees the primary version and the weighted one.
  auto resolved = service_->resolve("f", "live");
  ASSERT_TRUE(std::holds_alternative<FunctionService::Cached>(resolved));
  const auto& cached = std::get<FunctionService::Cached>(resolved);
  EXPECT_EQ(cached.record->version, "1");
  ASSERT_TRUE(cached.additional);
  EXPECT_EQ(cached.additional->version, "2");
  EXPECT_DOUBLE_EQ(cached.additional_weight, 0.3);
  EXPECT_EQ(cached.invoked_arn, "arn:aws:lambda:us-east-1:000000000000:function:f:live");

  // A version an alias routes to cannot go.
  const auto in_use = errorOf(service_->deleteFunction("f", "2"));
  EXPECT_EQ(in_use.type, "ResourceConflictException");
  EXPECT_NE(in_use.message.find("live"), std::string::npos);
  const auto stale = errorOf(service_->updateAlias(
      "f", "live", json{{"FunctionVersion", "2"}, {"RevisionId", "old"}}.dump()));
  EXPECT_EQ(stale.type, "PreconditionFailedException");
  const json moved = bodyOf(
      service_->updateAlias("f", "live",
                            json{{"FunctionVersion", "2"},
                                 {"RoutingConfig", {{"AdditionalVersionWeights", json::object()}}}}
                                .dump()));
  EXPECT_EQ(moved["FunctionVersion"], "2");
  EXPECT_FALSE(moved.contains("RoutingConfig"));
  EXPECT_EQ(std::get<FunctionService::Cached>(service_->resolve("f", "live")).record->version, "2");
  EXPECT_EQ(std::get<Reply>(service_->deleteAlias("f", "live")).status, 204);
  EXPECT_EQ(errorOf(service_->getAlias("f", "live")).status, 404);
  EXPECT_EQ(errorOf(service_->deleteAlias("f", "live")).status, 404);
}

TEST_F(FunctionServiceTest, ReservedConcurrencyKeepsTheUnreservedMinimum) {
  ASSERT_EQ(std::get<Reply>(service_->createFunction(createRequest("f").dump())).status, 201);
  EXPECT_EQ(errorOf(service_->putFunctionConcurrency(
                        "f", json{{"ReservedConcurrentExecutions", 901}}.dump()))
                .type,
            "InvalidParameterValueException");  // 1000 - 901 < 100
  EXPECT_EQ(
      bodyOf(service_->putFunctionConcurrency(
          "f", json{{"ReservedConcurrentExecutions", 900}}.dump()))["ReservedConcurrentExecutions"],
      900);
  EXPECT_EQ(
      bodyOf(service_->getAccountSettings())["AccountLimit"]["UnreservedConcurrentExecutions"],
      100);
  EXPECT_EQ(errorOf(service_->putFunctionConcurrency(
                        "f", json{{"ReservedConcurrentExecutions", -1}}.dump()))
                .type,
            "ValidationException");
}

TEST_F(FunctionServiceTest, ARegistryFailureIsA500WhoseCauseOnlyTheLogSees) {
  open(root_ + "/registry.db");
  ASSERT_EQ(std::get<Reply>(service_->createFunction(createRequest("f").dump())).status, 201);
  // Break the database behind the registry's back.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((root_ + "/registry.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE function_versions", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const auto error = errorOf(service_->publishVersion("f", "{}"));
  EXPECT_EQ(error.status, 500);
  EXPECT_EQ(error.type, "ServiceException");
  EXPECT_EQ(error.message.find("function_versions"), std::string::npos) << error.message;
  // The cause names the operation, the function and SQLite's reason.
  EXPECT_NE(error.cause.find("list versions of 'f'"), std::string::npos) << error.cause;
  EXPECT_NE(error.cause.find("no such table: function_versions"), std::string::npos) << error.cause;
}

}  // namespace
}  // namespace wick::functions
