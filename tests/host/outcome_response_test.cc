// A control-plane Outcome as its HTTP answer: a Reply's status and JSON
// body, no body for none, an AwsError in its AWS shape without its cause.
#include "host/api/outcome_response.h"

#include <gtest/gtest.h>

namespace wick::api {
namespace {

TEST(OutcomeResponse, ReplyCarriesItsStatusJsonBodyAndRequestId) {
  const auto response =
      toHttp(functions::Reply{201, nlohmann::json{{"FunctionUrl", "https://x/"}}}, "req-1");
  EXPECT_EQ(response.result_int(), 201u);
  EXPECT_EQ(response["x-amzn-RequestId"], "req-1");
  EXPECT_EQ(response[http::beast_http::field::content_type], "application/json");
  EXPECT_EQ(nlohmann::json::parse(response.body()),
            (nlohmann::json{{"FunctionUrl", "https://x/"}}));
}

TEST(OutcomeResponse, ReplyWithoutBodyHasNoBodyAndNoContentType) {
  const auto response = toHttp(functions::Reply{204, std::nullopt}, "req-2");
  EXPECT_EQ(response.result_int(), 204u);
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(response.count(http::beast_http::field::content_type), 0u);
}

TEST(OutcomeResponse, InvalidUtf8InABodyIsReplacedNotThrown) {
  const auto response = toHttp(functions::Reply{200, nlohmann::json{{"Log", "a\xff"}}}, "req-3");
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_NE(response.body().find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(OutcomeResponse, AnInternalErrorTellsTheClientNeitherItsCauseNorItsPath) {
  const auto response = toHttp(internalError("sqlite step: disk I/O error on /var/lib/x"), "req-4");
  EXPECT_EQ(response.result_int(), 500u);
  EXPECT_EQ(response["x-amzn-ErrorType"], "ServiceException");
  EXPECT_EQ(response.body().find("sqlite"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(response.body())["Type"], "Service");
}

}  // namespace
}  // namespace wick::api
