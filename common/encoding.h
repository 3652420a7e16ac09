// sha256 (OpenSSL) and base64: what Lambda's CodeSha256 and Code.ZipFile use;
// percent-encoding: what URLs, SigV4 and form bodies use.
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
// RFC 3986: all but the unreserved characters (A-Z a-z 0-9 - _ . ~), and '/'
// where kept, as %XX in upper-case hex (SigV4's canonical form; form bodies).
std::string percentEncode(std::string_view text, bool keep_slash = false);
// %XX sequences decoded (one that is not two hex digits stays as it is);
// with plus_is_space, '+' is a space as in query strings.
std::string percentDecode(std::string_view text, bool plus_is_space);

}  // namespace wick
