#include "host/auth/refusal_log.h"

#include <spdlog/spdlog.h>

namespace wick::auth {

std::string printable(std::string_view text, size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > limit) out += "...";
  return out;
}

void logRefused(const http::Request& request, std::string_view reason, std::string_view key_id) {
  spdlog::warn("refused {} {} from {}{}: {}",
               std::string(http::beast_http::to_string(request.method)), printable(request.path),
               request.peer, key_id.empty() ? "" : " (access key " + printable(key_id, 128) + ")",
               reason);
}

}  // namespace wick::auth
