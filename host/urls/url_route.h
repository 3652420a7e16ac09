// Which function URL a request is for: the Host header
// <url-id>.lambda-url.<region>.<domain>[:port], else a first path segment that
// is a url-id (/<url-id>/rest, for clients that cannot set a Host).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wick::urls {

struct Route {
  std::string url_id;
  std::string raw_path;  // what the function sees as rawPath: "/" at least
  bool by_host = false;
};

// 32 of [a-z0-9]: Lambda's url-id.
bool isUrlId(std::string_view text);
std::string newUrlId();
std::optional<Route> routeRequest(std::string_view host, std::string_view raw_path,
                                  std::string_view region, std::string_view domain);
// "<url-id>.lambda-url.<region>.<domain>"
std::string urlDomainName(std::string_view url_id, std::string_view region,
                          std::string_view domain);

}  // namespace wick::urls
