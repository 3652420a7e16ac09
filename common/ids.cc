#include "common/ids.h"

#include <sys/random.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "common/encoding.h"

namespace wick {

std::string randomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  // getrandom of a few bytes cannot fail short once the pool is initialised;
  // an identifier that is not random would be worse than stopping.
  if (::getrandom(raw.data(), raw.size(), 0) != static_cast<ssize_t>(raw.size())) std::abort();
  return toHex(raw);
}

std::string newUuid() {
  std::string hex = randomHex(16);
  hex[12] = '4';                                                              // version 4
  hex[16] = "89ab"[std::strtol(hex.substr(16, 1).c_str(), nullptr, 16) & 3];  // RFC 4122 variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

int64_t epochMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string utcNowMillis(std::string_view zone) {
  const int64_t millis = epochMillis();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char with_millis[48];
  std::snprintf(with_millis, sizeof with_millis, "%s.%03lld", text,
                static_cast<long long>(millis % 1000));
  return std::string(with_millis) + std::string(zone);
}

}  // namespace wick
