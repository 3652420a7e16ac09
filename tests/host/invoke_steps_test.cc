// The invoke path's pure steps: the event off the request (payload and
// header checks), and a weighted alias's choice of version.
#include "host/invoke/invoke_steps.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "host/invoke/payload_limit.h"

namespace wick::invoke {
namespace {

http::Request invokeRequest(std::string body,
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Request request;
  request.method = http::beast_http::verb::post;
  request.path = "/2015-03-31/functions/f/invocations";
  request.body = std::move(body);
  for (auto& [name, value] : headers)
    request.headers.set(name, value);
  return request;
}

TEST(ParseInvokeEvent, AnEmptyBodyIsAnEmptyObjectAndTailIsAsked) {
  auto event = parseInvokeEvent(invokeRequest("", {{"X-Amz-Log-Type", "Tail"}}));
  ASSERT_TRUE(std::holds_alternative<InvokeEvent>(event));
  EXPECT_EQ(std::get<InvokeEvent>(event).payload, "{}");
  EXPECT_TRUE(std::get<InvokeEvent>(event).tail);
  EXPECT_FALSE(std::get<InvokeEvent>(parseInvokeEvent(invokeRequest("1"))).tail);
}

TEST(ParseInvokeEvent, AnyJsonValueIsAPayloadButNotGarbage) {
  for (const char* payload : {"\"text\"", "42", "[1,2]", "null", "{\"a\":{\"b\":[]}}"})
    EXPECT_TRUE(std::holds_alternative<InvokeEvent>(parseInvokeEvent(invokeRequest(payload))))
        << payload;
  auto garbage = parseInvokeEvent(invokeRequest("{not json"));
  ASSERT_TRUE(std::holds_alternative<api::AwsError>(garbage));
  EXPECT_EQ(std::get<api::AwsError>(garbage).type, "InvalidRequestContentException");
  EXPECT_EQ(std::get<api::AwsError>(garbage).status, 400);
}

TEST(ParseInvokeEvent, APayloadOverSixMegabytesIs413) {
  std::string big = "\"" + std::string(kMaxInvokePayload, 'x') + "\"";
  auto refused = parseInvokeEvent(invokeRequest(big));
  ASSERT_TRUE(std::holds_alternative<api::AwsError>(refused));
  EXPECT_EQ(std::get<api::AwsError>(refused).status, 413);
  EXPECT_EQ(std::get<api::AwsError>(refused).type, "RequestTooLargeException");
  // Exactly at the limit is accepted.
  std::string at_limit = "\"" + std::string(kMaxInvokePayload - 2, 'x') + "\"";
  EXPECT_TRUE(std::holds_alternative<InvokeEvent>(parseInvokeEvent(invokeRequest(at_limit))));
}

TEST(ParseInvokeEvent, ClientContextMustBeBase64JsonOfAtMost3583Bytes) {
  const std::string context = R"({"custom":{"k":"v"}})";
  auto event =
      parseInvokeEvent(invokeRequest("{}", {{"X-Amz-Client-Context", base64Encode(context)}}));
  ASSERT_TRUE(std::holds_alternative<InvokeEvent>(event));
  EXPECT_EQ(std::get<InvokeEvent>(event).client_context, context);
  for (const std::string& bad : {std::string("not base64!"), base64Encode("not json"),
                                 base64Encode("{\"k\":\"" + std::string(2700, 'x') + "\"}")}) {
    auto refused = parseInvokeEvent(invokeRequest("{}", {{"X-Amz-Client-Context", bad}}));
    ASSERT_TRUE(std::holds_alternative<api::AwsError>(refused)) << bad.substr(0, 40);
    EXPECT_EQ(std::get<api::AwsError>(refused).type, "InvalidParameterValueException");
  }
}

TEST(PickVersion, AWeightedAliasSendsTheDrawsBelowTheWeightToTheOtherVersion) {
  functions::FunctionService::Cached resolved;
  auto one = std::make_shared<registry::FunctionRecord>();
  one->version = "1";
  auto two = std::make_shared<registry::FunctionRecord>();
  two->version = "2";
  resolved.record = one;
  EXPECT_EQ(pickVersion(resolved, 0.0)->version, "1");  // not weighted
  resolved.additional = two;
  resolved.additional_weight = 0.25;
  EXPECT_EQ(pickVersion(resolved, 0.0)->version, "2");
  EXPECT_EQ(pickVersion(resolved, 0.2499)->version, "2");
  EXPECT_EQ(pickVersion(resolved, 0.25)->version, "1");
  EXPECT_EQ(pickVersion(resolved, 0.9999)->version, "1");
  resolved.additional_weight = 0.0;  // a weight of 0 never routes there
  EXPECT_EQ(pickVersion(resolved, 0.0)->version, "1");
}

}  // namespace
}  // namespace wick::invoke
