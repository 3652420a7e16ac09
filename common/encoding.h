// sha256 (OpenSSL) and base64: what Lambda's CodeSha256 and Code.ZipFile use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wick {

// Raw 32-byte digest.
std::string sha256(std::string_view data);
// Raw 32-byte HMAC-SHA256 of data under key (SigV4's signing chain).
std::string hmacSha256(std::string_view key, std::string_view data);
std::string toHex(std::string_view bytes);
// The bytes of lower- or upper-case hex; nullopt for anything else.
std::optional<std::string> fromHex(std::string_view hex);
std::string base64Encode(std::string_view bytes);
// nullopt for anything that is not canonical base64 (padding optional).
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace wick
