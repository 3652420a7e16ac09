// credential_process output as the operator's command prints it: a value of
// the wrong JSON type is refused with a message, never thrown out of the
// parser (it runs on the invoke path of every new environment).
#include "host/invoke/role_credentials.h"

#include <gtest/gtest.h>

namespace wick::invoke {
namespace {

TEST(CredentialProcessOutput, TakesTheKeysAndTheExpiration) {
  auto keys = parseCredentialProcessOutput(
      R"({"Version": 1, "AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "secret",
          "SessionToken": "token", "Expiration": "2030-01-02T03:04:05Z"})");
  ASSERT_TRUE(keys.ok()) << keys.error().message();
  EXPECT_EQ(keys->access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(keys->secret_access_key, "secret");
  EXPECT_EQ(keys->session_token, "token");
  ASSERT_TRUE(keys->expiration.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*keys->expiration), 1893553445);
}

// null is absent, as botocore reads it.
TEST(CredentialProcessOutput, NullIsAbsent) {
  auto keys = parseCredentialProcessOutput(
      R"({"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "s", "SessionToken": null,
          "Expiration": null})");
  ASSERT_TRUE(keys.ok()) << keys.error().message();
  EXPECT_EQ(keys->session_token, "");
  EXPECT_FALSE(keys->expiration.has_value());
}

TEST(CredentialProcessOutput, RefusesValuesOfTheWrongTypeWithAMessage) {
  const char* outputs[] = {
      R"({"Version": "1", "AccessKeyId": "AKIA", "SecretAccessKey": "s"})",
      R"({"Version": 1.5, "AccessKeyId": "AKIA", "SecretAccessKey": "s"})",
      R"({"Version": 1, "AccessKeyId": 12345, "SecretAccessKey": "s"})",
      R"({"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": ["s"]})",
      R"({"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "s", "SessionToken": 7})",
      R"({"Version": 1, "AccessKeyId": null, "SecretAccessKey": "s"})",
      R"({"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "s", "Expiration": 1893553445})",
  };
  for (const char* output : outputs) {
    Result<RoleKeys> keys = Error("not parsed");
    EXPECT_NO_THROW(keys = parseCredentialProcessOutput(output)) << output;
    ASSERT_FALSE(keys.ok()) << output;
    EXPECT_NE(keys.error().message().find("credential_process output"), std::string::npos)
        << keys.error().message();
  }
}

}  // namespace
}  // namespace wick::invoke
