#include "host/api/event_stream.h"

#include <array>
#include <nlohmann/json.hpp>

namespace wick::api::eventstream {

namespace {

constexpr std::array<uint32_t, 256> kCrcTable = [] {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}();

void putU32(std::string& out, uint32_t value) {
  out += static_cast<char>(value >> 24);
  out += static_cast<char>(value >> 16);
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value);
}

}  // namespace

uint32_t crc32(std::string_view bytes, uint32_t crc) {
  crc = ~crc;
  for (unsigned char byte : bytes)
    crc = kCrcTable[(crc ^ byte) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string encodeMessage(const Headers& headers, std::string_view payload) {
  std::string encoded_headers;
  for (const auto& [name, value] : headers) {
    encoded_headers += static_cast<char>(name.size());
    encoded_headers += name;
    encoded_headers += static_cast<char>(7);  // string
    encoded_headers += static_cast<char>(value.size() >> 8);
    encoded_headers += static_cast<char>(value.size() & 0xff);
    encoded_headers += value;
  }
  const uint32_t total = static_cast<uint32_t>(12 + encoded_headers.size() + payload.size() + 4);
  std::string message;
  message.reserve(total);
  putU32(message, total);
  putU32(message, static_cast<uint32_t>(encoded_headers.size()));
  putU32(message, crc32(message));
  message += encoded_headers;
  message += payload;
  putU32(message, crc32(message));
  return message;
}

std::string payloadChunk(std::string_view bytes) {
  static const Headers kHeaders = {{":event-type", "PayloadChunk"},
                                   {":content-type", "application/octet-stream"},
                                   {":message-type", "event"}};
  return encodeMessage(kHeaders, bytes);
}

std::string invokeComplete(const std::string& error_code, const std::string& error_details,
                           const std::string& log_result) {
  static const Headers kHeaders = {{":event-type", "InvokeComplete"},
                                   {":content-type", "application/json"},
                                   {":message-type", "event"}};
  nlohmann::json body = nlohmann::json::object();
  if (!error_code.empty()) body["ErrorCode"] = error_code;
  if (!error_details.empty()) body["ErrorDetails"] = error_details;
  if (!log_result.empty()) body["LogResult"] = log_result;
  return encodeMessage(kHeaders,
                       body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace wick::api::eventstream
