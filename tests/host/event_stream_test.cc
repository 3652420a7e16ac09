// The application/vnd.amazon.eventstream encoder against known bytes: the
// CRC32 check value, and the PayloadChunk message of events.md 5.2, which
// botocore's EventStreamBuffer decodes to {"PayloadChunk":{"Payload":b"hi"}}.
// (The e2e test decodes whole streams with boto3.)
#include "host/api/event_stream.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace wick::api::eventstream {
namespace {

std::string fromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

uint32_t readU32(const std::string& bytes, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
}

TEST(EventStream, Crc32IsZlibs) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the CRC-32 check value
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("6789", crc32("12345")), crc32("123456789"));  // continued
}

TEST(EventStream, PayloadChunkMatchesTheKnownMessage) {
  const std::string expected = fromHex(
      "0000006c 0000005a b25efdcf"
      "0b3a6576656e742d74797065 07 000c 5061796c6f61644368756e6b"
      "0d3a636f6e74656e742d74797065 07 0018 6170706c69636174696f6e2f6f637465742d73747265616d"
      "0d3a6d6573736167652d74797065 07 0005 6576656e74"
      "6869"
      "1162e469");
  EXPECT_EQ(payloadChunk("hi"), expected);
}

TEST(EventStream, InvokeCompleteCarriesOnlyWhatIsSet) {
  const std::string success = invokeComplete("", "", "");
  ASSERT_GE(success.size(), 16u);
  const uint32_t total = readU32(success, 0);
  const uint32_t headers = readU32(success, 4);
  EXPECT_EQ(total, success.size());
  EXPECT_EQ(readU32(success, 8), crc32(std::string_view(success).substr(0, 8)));
  EXPECT_EQ(readU32(success, total - 4), crc32(std::string_view(success).substr(0, total - 4)));
  EXPECT_EQ(success.substr(12 + headers, total - 16 - headers), "{}");
  EXPECT_NE(success.find("InvokeComplete"), std::string::npos);

  const std::string failed = invokeComplete("Error", "{\"errorMessage\":\"boom\"}", "bG9n");
  const uint32_t failed_headers = readU32(failed, 4);
  const auto body = nlohmann::json::parse(
      failed.substr(12 + failed_headers, failed.size() - 16 - failed_headers));
  EXPECT_EQ(body, (nlohmann::json{{"ErrorCode", "Error"},
                                  {"ErrorDetails", "{\"errorMessage\":\"boom\"}"},
                                  {"LogResult", "bG9n"}}));
}

TEST(EventStream, LargePayloadLengthsAreBigEndian) {
  const std::string payload(300'000, 'x');
  const std::string message = payloadChunk(payload);
  EXPECT_EQ(readU32(message, 0), message.size());
  EXPECT_EQ(message.size(), 12 + readU32(message, 4) + payload.size() + 4);
}

}  // namespace
}  // namespace wick::api::eventstream
