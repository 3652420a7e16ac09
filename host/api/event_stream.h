// The application/vnd.amazon.eventstream framing (events.md 5.2): what
// InvokeWithResponseStream answers with, and what boto3 and the JS SDK
// decode. A message is a prelude (total length, headers length, the prelude's
// CRC32), headers, payload and the CRC32 of everything before it, all
// big-endian. Only string headers (type 7) are written: all Lambda uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wick::api::eventstream {

// CRC32 (IEEE 802.3, zlib's), continued from `crc`.
uint32_t crc32(std::string_view bytes, uint32_t crc = 0);

using Headers = std::vector<std::pair<std::string, std::string>>;  // name, string value
// One message; names must be 1..255 bytes and values at most 65535.
std::string encodeMessage(const Headers& headers, std::string_view payload);

// An event of InvokeWithResponseStream's stream.
std::string payloadChunk(std::string_view bytes);
// The last one: {} on success without a log tail; ErrorCode, ErrorDetails and
// LogResult when they are not empty.
std::string invokeComplete(const std::string& error_code, const std::string& error_details,
                           const std::string& log_result);

// The largest payload a message may carry (services enforce 24 MiB).
inline constexpr size_t kMaxPayloadBytes = 24u << 20;

}  // namespace wick::api::eventstream
