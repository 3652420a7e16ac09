// The invoke payload's JSON check (simdjson, with the DOM parser's verdict
// where simdjson refuses): the same answers as nlohmann::json::accept, which
// it replaced, on valid, invalid and edge-case documents.
#include "host/invoke/payload_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace wick::invoke
