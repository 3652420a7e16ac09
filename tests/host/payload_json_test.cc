// The invoke payload's JSON check (simdjson, with the DOM parser's verdict
// where simdjson refuses): the same answers as nlohmann::json::accept, which
// it replaced, on valid, invalid and edge-case documents; and the payload
// limit applied to an Invoke's head.
#include "host/invoke/payload_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/invoke/payload_limit.h"

namespace wick::invoke {
namespace {

TEST(PayloadJson, AgreesWithTheDomParserOnEveryCase) {
  const std::string deep_ok = std::string(3000, '[') + std::string(3000, ']');
  const std::vector<std::string> cases = {
      "{}", "[]", "0", "-1.5e10", "\"text\"", "null", "true", " {\"a\": [1, 2, {\"b\": null}]} ",
      "\"\\u00e9 \\ud834\\udd1e\"", "\"é ☃ 𝄞\"", "1e400", "123456789012345678901234567890", deep_ok,
      // invalid
      "", " ", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "tru", "nul", "01", "1.", "+1", "'x'", "{} {}",
      "[1] x", "\"\\x\"", "\"tab\there\"", "\"\xff\xfe\"", "\"\xc3\"", "NaN",
      std::string("\"a\0b\"", 5), std::string(3000, '[')};
  for (const auto& text : cases)
    EXPECT_EQ(isJson(text), nlohmann::json::accept(text)) << text.substr(0, 80);
}

TEST(PayloadJson, LargePayloads) {
  std::string big = "{\"pad\":\"" + std::string(6 << 20, 'x') + "\",\"n\":[1,2,3]}";
  EXPECT_TRUE(isJson(big));
  big.back() = ',';
  EXPECT_FALSE(isJson(big));
  std::string many = "[";
  for (int i = 0; i < 200000; ++i)
    many += "{\"k\":" + std::to_string(i) + "},";
  many.back() = ']';
  EXPECT_TRUE(isJson(many));
}

TEST(PayloadLimit, OnlyAnInvokeOverSixMegabytesIsRefusedByItsHead) {
  auto head = [](http::beast_http::verb method, std::string path) {
    http::Request request;
    request.method = method;
    request.path = std::move(path);
    return request;
  };
  using http::beast_http::verb;
  const auto invoke = head(verb::post, "/2015-03-31/functions/my-fn/invocations");
  auto refused = refuseOversizedInvoke(invoke, kMaxInvokePayload + 1);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->result_int(), 413);
  EXPECT_EQ(std::string((*refused)["x-amzn-ErrorType"]), "RequestTooLargeException");
  EXPECT_FALSE(refuseOversizedInvoke(invoke, kMaxInvokePayload).has_value());
  EXPECT_FALSE(refuseOversizedInvoke(invoke, std::nullopt).has_value()) << "chunked: read it";
  EXPECT_FALSE(refuseOversizedInvoke(head(verb::post, "/2015-03-31/functions"), 50u << 20))
      << "CreateFunction has its own, larger limit";
  EXPECT_FALSE(
      refuseOversizedInvoke(head(verb::post, "/2015-03-31/functions/a/b/invocations"), 7u << 20));
  EXPECT_FALSE(
      refuseOversizedInvoke(head(verb::get, "/2015-03-31/functions/f/invocations"), 7u << 20));
}

TEST(JsonNesting, CountsBracketsOutsideStrings) {
  EXPECT_EQ(jsonNesting("1"), 0u);
  EXPECT_EQ(jsonNesting(R"({"a":[1,{"b":[]}]})"), 4u);
  EXPECT_EQ(jsonNesting(R"(["[[[{{{", "\"[[[", "\\", []])"), 2u) << "brackets in strings";
  EXPECT_EQ(jsonNesting(std::string(300'000, '[') + std::string(300'000, ']')), 300'000u);
  EXPECT_GT(jsonNesting(std::string(kMaxDomNesting + 1, '{')), kMaxDomNesting);
}

}  // namespace
}  // namespace wick::invoke
