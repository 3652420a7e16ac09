#include "host/urls/url_directory.h"

#include "host/urls/resource_policy.h"
#include "host/urls/url_route.h"

namespace wick::urls {

std::optional<std::shared_ptr<const ServedUrl>> UrlDirectory::cached(const std::string& url_id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(url_id);
  if (it == entries_.end() || std::chrono::steady_clock::now() - it->second.loaded > ttl_)
    return std::nullopt;
  return it->second.url;
}

Result<std::shared_ptr<const ServedUrl>> UrlDirectory::load(const std::string& url_id) {
  uint64_t generation;
  {
    std::lock_guard lock(mutex_);
    generation = generation_;
  }
  auto config = store_.urlById(url_id);
  if (!config) return std::move(config).error();
  std::shared_ptr<ServedUrl> url;
  if (*config) {
    url = std::make_shared<ServedUrl>();
    url->config = **config;
    if (!url->config.cors_json.empty())
      url->cors = corsFromJson(nlohmann::json::parse(url->config.cors_json, nullptr, false));
    auto policy = store_.policy(url->config.function, url->config.qualifier);
    if (!policy) return std::move(policy).error();
    url->public_allowed = *policy && allowsPublicUrl(**policy);
  }
  std::lock_guard lock(mutex_);
  if (generation == generation_) {
    // Bounded: hostile clients may ask for many url-ids that do not exist.
    if (entries_.size() >= 10'000) entries_.clear();
    entries_[url_id] = {url, std::chrono::steady_clock::now()};
  }
  return std::shared_ptr<const ServedUrl>(url);
}

void UrlDirectory::forgetAll() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  ++generation_;
}

std::string PublicBase::urlFor(const std::string& url_id) const {
  std::string url = scheme + "://" + urlDomainName(url_id, region, domain);
  if (port != 0 && !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443))
    url += ":" + std::to_string(port);
  return url + "/";
}

}  // namespace wick::urls
