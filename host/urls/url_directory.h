// The function URLs the listener serves, by url-id: what the store keeps plus
// what each request needs decided (the parsed Cors, whether the policy lets
// the public in), cached in memory for the hot path. The control plane
// forgets the cache on every change; entries also expire, so that changes
// made through a store shared with other hosts are seen within `ttl`.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "host/urls/cors.h"
#include "host/urls/url_store.h"

namespace wick::urls {

struct ServedUrl {
  UrlConfig config;
  std::optional<Cors> cors;
  bool public_allowed = false;  // the policy allows InvokeFunctionUrl to "*" (NONE)
};

class UrlDirectory {
 public:
  explicit UrlDirectory(UrlStore& store,
                        std::chrono::milliseconds ttl = std::chrono::milliseconds(2000))
      : store_(store), ttl_(ttl) {}

  // From memory (safe on the I/O threads): nullopt when not cached; a cached
  // null is a url-id known not to exist.
  std::optional<std::shared_ptr<const ServedUrl>> cached(const std::string& url_id);
  // From the store (blocking: on a worker), cached; null when there is none.
  Result<std::shared_ptr<const ServedUrl>> load(const std::string& url_id);
  void forgetAll();

  UrlStore& store() { return store_; }

 private:
  struct Entry {
    std::shared_ptr<const ServedUrl> url;
    std::chrono::steady_clock::time_point loaded;
  };
  UrlStore& store_;
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  uint64_t generation_ = 0;  // a load that began before a forgetAll is not cached
};

// What FunctionUrl says: <scheme>://<url-id>.lambda-url.<region>.<domain>[:port]/
struct PublicBase {
  std::string scheme = "http";
  std::string region = "us-east-1";
  std::string domain = "localhost";
  uint32_t port = 0;  // 0: none shown (80 for http, 443 for https)

  std::string urlFor(const std::string& url_id) const;
};

}  // namespace wick::urls
