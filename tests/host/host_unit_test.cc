// Pure logic of the host: FunctionName forms, encodings, configuration checks.
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "common/ids.h"
#include "host/functions/function_name.h"
#include "host/functions/validation.h"
#include "host/runtimes/catalog.h"

namespace wick {
namespace {

using functions::parseFunctionName;

TEST(FunctionName, EveryFormLambdaAccepts) {
  EXPECT_EQ(parseFunctionName("f")->name, "f");
  auto qualified = parseFunctionName("my-fn:prod");
  EXPECT_EQ(qualified->name, "my-fn");
  EXPECT_EQ(qualified->qualifier, "prod");
  auto partial = parseFunctionName("123456789012:function:my_fn:$LATEST");
  EXPECT_EQ(partial->name, "my_fn");
  EXPECT_EQ(partial->qualifier, "$LATEST");
  auto full = parseFunctionName("arn:aws:lambda:eu-west-1:123456789012:function:fn");
  EXPECT_EQ(full->name, "fn");
  EXPECT_EQ(full->qualifier, "");
  EXPECT_EQ(parseFunctionName("arn:aws:lambda:eu-west-1:123456789012:function:fn:7")->qualifier,
            "7");
}

TEST(FunctionName, RejectsEverythingElse) {
  for (const char* bad : {"", "a/b", "a b", "arn:aws:s3:::bucket", "arn:aws:lambda:r:1:layer:x",
                          "1:function:", "f:", "f:a/b", "x:y:z:w:v",
                          "0123456789012345678901234567890123456789012345678901234567890123456789"})
    EXPECT_FALSE(parseFunctionName(bad).has_value()) << bad;
}

TEST(FunctionName, Arns) {
  functions::ArnScope scope{"eu-west-1", "123456789012"};
  EXPECT_EQ(functions::functionArn(scope, "f"), "arn:aws:lambda:eu-west-1:123456789012:function:f");
  EXPECT_EQ(functions::functionArn(scope, "f", "3"),
            "arn:aws:lambda:eu-west-1:123456789012:function:f:3");
}

TEST(Encoding, Base64RoundTripsAndRejectsGarbage) {
  for (const std::string& text :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(*base64Decode(base64Encode(text)), text);
  EXPECT_EQ(base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(*base64Decode("aGVsbG8"), "hello");  // padding optional
  EXPECT_FALSE(base64Decode("a$==").has_value());
  EXPECT_FALSE(base64Decode("a").has_value());
}

TEST(Encoding, Sha256IsCodeSha256) {
  EXPECT_EQ(toHex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Validation, CreateFillsLambdaDefaults) {
  nlohmann::json settings;
  auto error = functions::applyConfiguration(
      {{"Runtime", "provided"}, {"Role", "arn:aws:iam::123456789012:role/r"}}, settings, true);
  ASSERT_FALSE(error.has_value()) << error->message;
  EXPECT_EQ(settings["Timeout"], 3);
  EXPECT_EQ(settings["MemorySize"], 128);
  EXPECT_EQ(settings["EphemeralStorage"]["Size"], 512);
  EXPECT_EQ(settings["PackageType"], "Zip");
}

TEST(Validation, ManagedRuntimesNeedAHandlerImagesNoRuntime) {
  const nlohmann::json role = "arn:aws:iam::123456789012:role/r";
  nlohmann::json settings;
  auto error =
      functions::applyConfiguration({{"Runtime", "python3.11"}, {"Role", role}}, settings, true);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->message.find("Handler is required"), std::string::npos);
  EXPECT_FALSE(
      functions::applyConfiguration(
          {{"Runtime", "nodejs20.x"}, {"Handler", "app.handler"}, {"Role", role}}, settings, true)
          .has_value());
  error = functions::applyConfiguration(
      {{"PackageType", "Image"}, {"Runtime", "python3.11"}, {"Role", role}}, settings, true);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->type, "InvalidParameterValueException");
  settings = nlohmann::json();
  error = functions::applyConfiguration(
      {{"PackageType", "Image"},
       {"Role", role},
       {"ImageConfig", {{"EntryPoint", {"/bin/sh"}}, {"Command", nlohmann::json::array()}}}},
      settings, true);
  ASSERT_FALSE(error.has_value()) << error->message;
  EXPECT_EQ(settings["ImageConfig"]["Command"], nlohmann::json::array());
  error = functions::applyConfiguration({{"ImageConfig", {{"EntryPoint", "/bin/sh"}}}}, settings,
                                        false);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->type, "ValidationException");
}

TEST(Runtimes, AliasesShareABaseAndManagedOnesCarryTheirEnvironment) {
  const auto* al2 = runtimes::findRuntime("provided.al2");
  ASSERT_NE(al2, nullptr);
  EXPECT_EQ(al2->base, "provided.al2023");
  EXPECT_FALSE(al2->managed);
  const auto* python = runtimes::findRuntime("python3.11");
  ASSERT_NE(python, nullptr);
  EXPECT_TRUE(python->managed);
  EXPECT_EQ(python->environment.at("AWS_EXECUTION_ENV"), "AWS_Lambda_python3.11");
  EXPECT_EQ(runtimes::findRuntime("python2.7"), nullptr);
  EXPECT_EQ(runtimes::baseNames(),
            (std::vector<std::string>{"python3.11", "nodejs20.x", "provided.al2023"}));
}

TEST(Encoding, HexRoundTripsAndRejectsGarbage) {
  EXPECT_EQ(fromHex("00ff10Ab").value(), std::string("\x00\xff\x10\xab", 4));
  EXPECT_EQ(toHex(fromHex("deadbeef").value()), "deadbeef");
  EXPECT_FALSE(fromHex("abc").has_value());
  EXPECT_FALSE(fromHex("zz").has_value());
}

TEST(Encoding, PercentEncodingIsRfc3986AndDecodingKeepsWhatIsMalformed) {
  EXPECT_EQ(percentEncode("a-b_c.d~e f/g+h=\xc3\xa9"), "a-b_c.d~e%20f%2Fg%2Bh%3D%C3%A9");
  EXPECT_EQ(percentEncode("/2015-03-31/functions/a b", true), "/2015-03-31/functions/a%20b");
  EXPECT_EQ(percentDecode("a%20b+c%2fd", true), "a b c/d");
  EXPECT_EQ(percentDecode("a%20b+c", false), "a b+c");
  // A % without two hex digits after it stays, at the end too.
  EXPECT_EQ(percentDecode("100%+%zz%4", true), "100% %zz%4");
  EXPECT_EQ(percentDecode(percentEncode(std::string("\x00\xff%+ ", 5)), false),
            std::string("\x00\xff%+ ", 5));
}

TEST(Validation, MaximaAreEnforcedWithAwsNames) {
  nlohmann::json settings;
  auto error = functions::applyConfiguration({{"MemorySize", 10241}}, settings, false);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->type, "ValidationException");
  EXPECT_EQ(error->status, 400);
  EXPECT_NE(error->message.find("Member must have value less than or equal to 10240"),
            std::string::npos);
  error = functions::applyConfiguration(
      {{"Environment", {{"Variables", {{"LAMBDA_TASK_ROOT", "x"}}}}}}, settings, false);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->type, "InvalidParameterValueException");
}

}  // namespace
}  // namespace wick

#include "host/invoke/concurrency.h"

namespace wick::invoke {
namespace {

TEST(Concurrency, ReservedZeroThrottlesEverything) {
  ConcurrencyLimiter limiter(1000);
  auto result = limiter.acquire("f", 0, 0);
  ASSERT_TRUE(std::holds_alternative<ConcurrencyLimiter::Throttle>(result));
  EXPECT_EQ(std::get<ConcurrencyLimiter::Throttle>(result).reason,
            "ReservedFunctionConcurrentInvocationLimitExceeded");
}

TEST(Concurrency, ReservedPoolIsTheFunctionsCeilingAndSlotsReturn) {
  ConcurrencyLimiter limiter(1000);
  std::vector<Permit> permits;
  for (int i = 0; i < 3; ++i) {
    auto result = limiter.acquire("f", 3, 3);
    ASSERT_TRUE(std::holds_alternative<Permit>(result)) << i;
    permits.push_back(std::move(std::get<Permit>(result)));
  }
  EXPECT_TRUE(std::holds_alternative<ConcurrencyLimiter::Throttle>(limiter.acquire("f", 3, 3)));
  EXPECT_EQ(limiter.inFlight("f"), 3);
  EXPECT_EQ(limiter.unreservedInFlight(), 0) << "reserved executions use their own pool";
  permits.pop_back();
  EXPECT_TRUE(std::holds_alternative<Permit>(limiter.acquire("f", 3, 3)));
}

TEST(Concurrency, AccountPoolLessReservedIsSharedByTheRest) {
  ConcurrencyLimiter limiter(10);
  std::vector<Permit> permits;
  // 4 reserved elsewhere: 6 left for unreserved functions.
  for (int i = 0; i < 6; ++i)
    permits.push_back(
        std::move(std::get<Permit>(limiter.acquire(i % 2 ? "a" : "b", std::nullopt, 4))));
  auto throttled = limiter.acquire("c", std::nullopt, 4);
  ASSERT_TRUE(std::holds_alternative<ConcurrencyLimiter::Throttle>(throttled));
  EXPECT_EQ(std::get<ConcurrencyLimiter::Throttle>(throttled).reason,
            "ConcurrentInvocationLimitExceeded");
  permits.clear();
  EXPECT_EQ(limiter.unreservedInFlight(), 0);
  EXPECT_EQ(limiter.inFlight("a"), 0);
}

}  // namespace
}  // namespace wick::invoke

#include <filesystem>

#include "common/unique_fd.h"
#include "host/logs/log_records.h"
#include "host/logs/log_stream.h"

namespace wick::logs {
namespace {

TEST(LogLines, AreExactlyLambdas) {
  EXPECT_EQ(startLine("abc", "$LATEST"), "START RequestId: abc Version: $LATEST");
  EXPECT_EQ(endLine("abc"), "END RequestId: abc");
  Report warm{"abc", 1.234, 128, 35, std::nullopt, ""};
  EXPECT_EQ(reportLine(warm),
            "REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 35 MB\t");
  Report cold{"abc", 10.0, 256, 40, 12.345, ""};
  EXPECT_EQ(
      reportLine(cold),
      "REPORT RequestId: abc\tDuration: 10.00 ms\tBilled Duration: 10 ms\tMemory Size: 256 MB\t"
      "Max Memory Used: 40 MB\tInit Duration: 12.35 ms\t");
}

TEST(LogLines, StreamNamesCarryDateVersionAndEnvironment) {
  std::string name = logStreamName("$LATEST", "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(name.size(),
            std::string("2026/11/23/[$LATEST]0123456789abcdef0123456789abcdef").size());
  EXPECT_EQ(name.substr(4, 1), "/");
  EXPECT_NE(name.find("/[$LATEST]0123456789abcdef"), std::string::npos);
}

TEST(LogStreamFile, AppendsAndKeepsTheInvocationTail) {
  char root[] = "/tmp/wick-logs-XXXXXX";
  ASSERT_NE(::mkdtemp(root), nullptr);
  auto stream = LogStream::open(root, "fn", "2026/01/01/[$LATEST]abc");
  ASSERT_TRUE(stream.ok()) << stream.error().message();
  stream->append("before");
  stream->beginInvocation();
  stream->append("one");
  stream->append(std::string(5000, 'x'));
  EXPECT_EQ(stream->invocationTail().size(), 4096u);
  stream->beginInvocation();
  stream->append("two");
  EXPECT_EQ(stream->invocationTail(), "two\n");
  // On disk, each line is a record with the time it was taken in.
  const std::string kept = *readFile(stream->path());
  auto records = parseRecords(kept, 0, 0);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].message, "before");
  EXPECT_EQ(records[1].message, "one");
  EXPECT_EQ(records[3].message, "two");
  EXPECT_LE(std::abs(records[0].timestamp_ms - epochMillis()), 10'000);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace wick::logs

#include "host/invoke/runtime_environment.h"

namespace wick::invoke {
namespace {

std::map<std::string, std::string> asMap(const std::vector<std::string>& entries) {
  std::map<std::string, std::string> map;
  for (const auto& entry : entries)
    map[entry.substr(0, entry.find('='))] = entry.substr(entry.find('=') + 1);
  return map;
}

TEST(RuntimeEnvironment, LambdasVariablesWithUserOverridesOfUnreservedOnly) {
  const registry::FunctionConfig settings = *registry::FunctionConfig::fromJson(
      {{"Handler", "app.handler"},
       {"MemorySize", 256},
       {"Environment", {{"Variables", {{"PATH", "/custom"}, {"MINE", "1"}}}}}});
  auto env = asMap(
      runtimeEnvironment(settings, {"fn", "$LATEST", "eu-west-1", "2026/01/01/[$LATEST]ab", ""}));
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_NAME"], "fn");
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
  EXPECT_EQ(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
  EXPECT_EQ(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/fn");
  EXPECT_EQ(env["AWS_LAMBDA_LOG_STREAM_NAME"], "2026/01/01/[$LATEST]ab");
  EXPECT_EQ(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
  EXPECT_EQ(env["AWS_REGION"], "eu-west-1");
  EXPECT_EQ(env["_HANDLER"], "app.handler");
  EXPECT_EQ(env["LAMBDA_TASK_ROOT"], "/var/task");
  EXPECT_EQ(env["TZ"], ":UTC");
  EXPECT_EQ(env["PATH"], "/custom");
  EXPECT_EQ(env["MINE"], "1");
  EXPECT_EQ(env.count("AWS_EXECUTION_ENV"), 0u) << "not set for provided runtimes";
}

}  // namespace
}  // namespace wick::invoke

#include <regex>

namespace wick {
namespace {

TEST(Ids, UuidsAreVersion4AndTimestampsLambdas) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(std::regex_match(newUuid(), uuid));
  EXPECT_NE(newUuid(), newUuid());
  EXPECT_TRUE(std::regex_match(utcNowMillis("+0000"),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000)")));
  EXPECT_EQ(randomHex(6).size(), 12u);
}

}  // namespace
}  // namespace wick

#include "common/path.h"

namespace wick {
namespace {

TEST(Path, ComponentsDropEmptyAndDotButKeepDotDot) {
  EXPECT_EQ(pathComponents("/a//./b/../c/"), (std::vector<std::string>{"a", "b", "..", "c"}));
  EXPECT_EQ(pathComponents(""), std::vector<std::string>{});
  EXPECT_EQ(pathComponents("./"), std::vector<std::string>{});
  EXPECT_EQ(joinComponents({"a", "b"}), "a/b");
  EXPECT_EQ(joinComponents({}), "");
}

}  // namespace
}  // namespace wick
