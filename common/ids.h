// Random identifiers and the timestamps Lambda prints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wick {

// `bytes` random bytes (getrandom) as lower-case hex.
std::string randomHex(size_t bytes);
// A random (version 4) UUID, lower-case and hyphenated, as Lambda's request ids.
std::string newUuid();
// Now in UTC as "YYYY-MM-DDTHH:MM:SS.mmm" followed by `zone` ("+0000" for
// LastModified, "Z" for log lines).
std::string utcNowMillis(std::string_view zone);
// Milliseconds since the Unix epoch (the system clock).
int64_t epochMillis();

}  // namespace wick
