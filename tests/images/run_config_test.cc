// Lambda's ImageConfig over the image's config (lambda-contract.md 3.3).
#include "images/run_config.h"

#include <gtest/gtest.h>

#include "images/oci.h"

namespace wick::images {
namespace {

using Strings = std::vector<std::string>;

ContainerConfig awsBaseImage() {
  ContainerConfig image;
  image.entrypoint = Strings{"/lambda-entrypoint.sh"};
  image.cmd = Strings{"app.handler"};
  image.env = {"PATH=/var/lang/bin:/bin", "LANG=en_US.UTF-8", "TZ=:/etc/localtime"};
  image.working_dir = "/var/task";
  image.user = "nobody";
  return image;
}

TEST(RunConfigTest, ImageAloneGivesEntrypointPlusCmd) {
  auto run = resolveRunConfig(awsBaseImage(), {});
  ASSERT_TRUE(run);
  EXPECT_EQ(run->argv, (Strings{"/lambda-entrypoint.sh", "app.handler"}));
  EXPECT_EQ(run->cwd, "/var/task");
  EXPECT_EQ(run->env.size(), 3u);
}

TEST(RunConfigTest, PresentFieldsOverrideEvenWhenEmpty) {
  ImageConfigOverride lambda;
  lambda.entry_point = Strings{"/bin/sh", "-c"};
  lambda.command = Strings{};
  lambda.working_directory = "/tmp/../srv/./x";
  auto run = resolveRunConfig(awsBaseImage(), lambda);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->argv, (Strings{"/bin/sh", "-c"}));
  EXPECT_EQ(run->cwd, "/srv/x");
}

TEST(RunConfigTest, OverridesAreIndependent) {
  ImageConfigOverride command_only;
  command_only.command = Strings{"other.handler"};
  auto run = resolveRunConfig(awsBaseImage(), command_only);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->argv, (Strings{"/lambda-entrypoint.sh", "other.handler"}));
  ImageConfigOverride entry_only;
  entry_only.entry_point = Strings{"/bin/run"};
  run = resolveRunConfig(awsBaseImage(), entry_only);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->argv, (Strings{"/bin/run", "app.handler"}));
}

TEST(RunConfigTest, LambdaVariablesWinOverImageEnv) {
  auto run = resolveRunConfig(awsBaseImage(), {},
                              {{"LANG", "C"}, {"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}});
  ASSERT_TRUE(run);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(run->env, (Pairs{{"PATH", "/var/lang/bin:/bin"},
                             {"LANG", "C"},
                             {"TZ", ":/etc/localtime"},
                             {"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}}));
}

TEST(RunConfigTest, NoProgramOrRelativeDirectoryIsAnError) {
  ContainerConfig empty;
  EXPECT_FALSE(resolveRunConfig(empty, {}));
  ImageConfigOverride clear;
  clear.entry_point = Strings{};
  clear.command = Strings{};
  EXPECT_FALSE(resolveRunConfig(awsBaseImage(), clear));
  ImageConfigOverride relative;
  relative.working_directory = "var/task";
  EXPECT_FALSE(resolveRunConfig(awsBaseImage(), relative));
  ContainerConfig no_dir = awsBaseImage();
  no_dir.working_dir = "";
  EXPECT_EQ(resolveRunConfig(no_dir, {})->cwd, "/");
}

}  // namespace
}  // namespace wick::images

// Found by fuzz_oci_json: a hostile config whose rootfs.type is not a string
// threw out of the parser (and would have ended wickd) instead of being refused.
TEST(ImageConfigParseTest, RootfsTypeOfTheWrongKindIsAnError) {
  for (const char* config :
       {R"({"rootfs":{"type":["layers"],"diff_ids":[]}})", R"({"rootfs":{"type":7,"diff_ids":[]}})",
        R"({"rootfs":{"type":"tar","diff_ids":[]}})"}) {
    auto parsed = wick::images::parseConfig(config);
    ASSERT_FALSE(parsed) << config;
    EXPECT_NE(parsed.error().message().find("rootfs.type"), std::string::npos) << config;
  }
  EXPECT_TRUE(wick::images::parseConfig(R"({"rootfs":{"type":"layers","diff_ids":[]}})"));
}
