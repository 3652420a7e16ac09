#include "host/urls/url_route.h"

#include <boost/algorithm/string/case_conv.hpp>

#include "common/ids.h"

namespace wick::urls {

bool isUrlId(std::string_view text) {
  if (text.size() != 32) return false;
  for (char c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

std::string newUrlId() {
  // 160 random bits in base32 (a-z, 2-7 would do; Lambda's ids use all of [a-z0-9]).
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  const std::string hex = randomHex(32);
  std::string id;
  for (size_t i = 0; i < 32; ++i)
    id += kAlphabet[std::stoi(hex.substr(2 * i, 2), nullptr, 16) % 36];
  return id;
}

std::string urlDomainName(std::string_view url_id, std::string_view region,
                          std::string_view domain) {
  return std::string(url_id) + ".lambda-url." + std::string(region) + "." + std::string(domain);
}

std::optional<Route> routeRequest(std::string_view host, std::string_view raw_path,
                                  std::string_view region, std::string_view domain) {
  // Host: a name and an optional port (an IPv6 literal has no url-id in it anyway).
  std::string name = boost::algorithm::to_lower_copy(std::string(host));
  if (const size_t colon = name.rfind(':');
      colon != std::string::npos && name.find(']') == std::string::npos)
    name.resize(colon);
  if (!name.empty() && name.back() == '.') name.pop_back();  // a fully qualified name
  const std::string suffix = ".lambda-url." + boost::algorithm::to_lower_copy(std::string(region)) +
                             "." + boost::algorithm::to_lower_copy(std::string(domain));
  if (name.size() == 32 + suffix.size() && name.ends_with(suffix) &&
      isUrlId(std::string_view(name).substr(0, 32)))
    return Route{name.substr(0, 32), raw_path.empty() ? "/" : std::string(raw_path), true};
  // /<url-id>[/rest]
  if (raw_path.size() >= 33 && raw_path[0] == '/' && isUrlId(raw_path.substr(1, 32)) &&
      (raw_path.size() == 33 || raw_path[33] == '/')) {
    std::string rest(raw_path.substr(33));
    return Route{std::string(raw_path.substr(1, 32)), rest.empty() ? "/" : rest, false};
  }
  return std::nullopt;
}

}  // namespace wick::urls
