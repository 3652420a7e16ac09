// FunctionConfig: the typed configuration a record carries out of the
// registry, and the update that validates (functions/validation.h).
#include "host/registry/function_config.h"

#include <gtest/gtest.h>

#include "host/functions/validation.h"

namespace wick {
namespace {

using functions::updatedConfig;
using nlohmann::json;
using registry::FunctionConfig;
using registry::PackageType;

const char* kRole = "arn:aws:iam::123456789012:role/r";

FunctionConfig created(const json& request) {
  auto config = updatedConfig({}, request, true);
  if (auto* error = std::get_if<api::AwsError>(&config)) ADD_FAILURE() << error->message;
  return std::get<FunctionConfig>(config);
}

TEST(FunctionConfig, CreateFillsLambdasDefaultsAsTypedFields) {
  const FunctionConfig config = created({{"Runtime", "provided.al2023"}, {"Role", kRole}});
  EXPECT_EQ(config.timeout_s, 3);
  EXPECT_EQ(config.memory_mb, 128);
  EXPECT_EQ(config.ephemeral_storage_mb, 512);
  EXPECT_EQ(config.package_type, PackageType::kZip);
  EXPECT_EQ(config.architecture, "x86_64");
  EXPECT_EQ(config.tracing_mode, "PassThrough");
  EXPECT_EQ(config.runtime, "provided.al2023");
  EXPECT_EQ(config.role, kRole);
  EXPECT_FALSE(config.handler.has_value());
  EXPECT_TRUE(config.environment.empty());
}

// The stored and shown form is what the JSON checks produced before typed
// fields existed: GetFunction and the database see no difference.
TEST(FunctionConfig, StoredFormIsExactlyTheCheckedRequest) {
  const std::vector<json> requests = {
      {{"Runtime", "python3.11"}, {"Role", kRole}, {"Handler", "app.h"}},
      {{"Runtime", "provided"},
       {"Role", kRole},
       {"Timeout", 900},
       {"MemorySize", 10240},
       {"Description", "d"},
       {"Environment", {{"Variables", {{"AB", "1"}, {"B_2", ""}}}}},
       {"EphemeralStorage", {{"Size", 10240}}},
       {"TracingConfig", {{"Mode", "Active"}}},
       {"DeadLetterConfig", {{"TargetArn", "arn:aws:sqs:us-east-1:123456789012:q"}}},
       {"KMSKeyArn", "arn:aws:kms:us-east-1:123456789012:key/k"}},
      {{"PackageType", "Image"},
       {"Role", kRole},
       {"ImageConfig", {{"EntryPoint", json::array()}, {"WorkingDirectory", "/w"}}}},
  };
  for (const json& request : requests) {
    json checked;
    ASSERT_FALSE(functions::applyConfiguration(request, checked, true)) << request.dump();
    EXPECT_EQ(created(request).toJson(), checked) << request.dump();
    EXPECT_EQ(*FunctionConfig::fromJson(checked), created(request));
  }
}

TEST(FunctionConfig, ImageConfigKeepsAnEmptyListAsAnOverride) {
  const FunctionConfig config =
      created({{"PackageType", "Image"},
               {"Role", kRole},
               {"ImageConfig", {{"Command", json::array()}, {"EntryPoint", {"/bin/sh", "-c"}}}}});
  ASSERT_TRUE(config.image_config.has_value());
  EXPECT_EQ(config.image_config->command, std::vector<std::string>{});
  EXPECT_EQ(config.image_config->entry_point, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_FALSE(config.image_config->working_directory.has_value());
  EXPECT_TRUE(config.isImage());
}

TEST(FunctionConfig, UnknownFieldsAreRefusedByName) {
  auto top = FunctionConfig::fromJson({{"Timeout", 3}, {"Timeuot", 4}});
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.error().message(), "unknown field Timeuot");
  auto nested = FunctionConfig::fromJson({{"ImageConfig", {{"Entrypoint", json::array()}}}});
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().message(), "settings: unknown field ImageConfig.Entrypoint");
  auto extra = FunctionConfig::fromJson({{"EphemeralStorage", {{"Size", 512}, {"Unit", "MB"}}}});
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.error().message().find("EphemeralStorage"), std::string::npos);
}

TEST(FunctionConfig, WrongTypesAreRefusedNamingTheField) {
  for (const auto& [settings, field] : std::vector<std::pair<json, std::string>>{
           {{{"Timeout", "3"}}, "Timeout"},
           {{{"MemorySize", 1.5}}, "MemorySize"},
           {{{"PackageType", "Jar"}}, "PackageType"},
           {{{"Architectures", {"x86_64", "arm64"}}}, "Architectures"},
           {{{"Environment", {{"Variables", {{"A", 1}}}}}}, "Environment.Variables.A"},
           {{{"ImageConfig", {{"Command", "ls"}}}}, "ImageConfig.Command"},
           {json::array(), "settings"}}) {
    auto parsed = FunctionConfig::fromJson(settings);
    ASSERT_FALSE(parsed.ok()) << settings.dump();
    EXPECT_NE(parsed.error().message().find(field), std::string::npos) << parsed.error().message();
    EXPECT_EQ(parsed.error().errNo(), EINVAL);
  }
}

TEST(FunctionConfig, UpdateChangesOnlyTheFieldsGiven) {
  const FunctionConfig before =
      created({{"Runtime", "python3.11"}, {"Role", kRole}, {"Handler", "a.b"}, {"Timeout", 30}});
  auto after = updatedConfig(
      before, {{"MemorySize", 512}, {"Environment", {{"Variables", {{"KEY", "v"}}}}}}, false);
  ASSERT_TRUE(std::holds_alternative<FunctionConfig>(after));
  FunctionConfig expected = before;
  expected.memory_mb = 512;
  expected.environment = {{"KEY", "v"}};
  EXPECT_EQ(std::get<FunctionConfig>(after), expected);
  // Clearing the variables removes them.
  auto cleared = updatedConfig(expected, {{"Environment", {{"Variables", json::object()}}}}, false);
  EXPECT_TRUE(std::get<FunctionConfig>(cleared).environment.empty());
}

TEST(FunctionConfig, UpdateThatFailsAChecksIsAnAwsErrorAndChangesNothing) {
  const FunctionConfig before = created({{"Runtime", "provided"}, {"Role", kRole}});
  const FunctionConfig copy = before;
  auto too_big = updatedConfig(before, {{"MemorySize", 10241}}, false);
  ASSERT_TRUE(std::holds_alternative<api::AwsError>(too_big));
  EXPECT_EQ(std::get<api::AwsError>(too_big).type, "ValidationException");
  auto image_only = updatedConfig(before, {{"ImageConfig", {{"Command", {"x"}}}}}, false);
  ASSERT_TRUE(std::holds_alternative<api::AwsError>(image_only));
  EXPECT_EQ(std::get<api::AwsError>(image_only).type, "InvalidParameterValueException");
  EXPECT_EQ(before, copy);
}

}  // namespace
}  // namespace wick
