// The function URL control plane (../shared/reference/events.md 4.1, 4.2):
//   POST|GET|PUT|DELETE /2021-10-31/functions/{name}/url[?Qualifier=]
//   GET /2021-10-31/functions/{name}/urls[?Marker=&MaxItems=]
//   POST|GET /2015-03-31/functions/{name}/policy[?Qualifier=]     AddPermission, GetPolicy
//   DELETE /2015-03-31/functions/{name}/policy/{sid}[?Qualifier=&RevisionId=]
// A URL belongs to $LATEST or an alias; a policy to any qualifier.
#pragma once

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "host/functions/function_service.h"
#include "host/functions/outcome.h"
#include "host/http/server.h"
#include "host/urls/url_directory.h"

namespace wick::api {

class FunctionUrlApi {
 public:
  FunctionUrlApi(urls::UrlDirectory& directory, const urls::PublicBase& base,
                 functions::FunctionService& functions, boost::asio::thread_pool& workers)
      : directory_(directory),
        store_(directory.store()),
        base_(base),
        functions_(functions),
        workers_(workers) {}

  static bool claims(const http::Request& request);
  boost::asio::awaitable<http::Response> handle(http::Request request);
  functions::Outcome answer(const http::Request& request);  // blocking

  // A function (no qualifier) or one of its aliases or versions was deleted:
  // its URLs and policies go with it (blocking).
  void forgetDeleted(const std::string& name, const std::string& qualifier);

 private:
  struct Target {
    std::string function;
    std::string qualifier;  // "$LATEST" or the alias (a version for policies)
    std::string arn;        // unqualified for $LATEST
  };
  std::variant<Target, AwsError> urlTarget(const std::string& name, const http::Request& request,
                                           const std::string& missing_function);
  std::variant<Target, AwsError> policyTarget(const std::string& name,
                                              const http::Request& request);
  // The function (and alias or version) exists: nullopt; else why not (a 404,
  // or the registry's 500, which is not "does not exist").
  std::optional<AwsError> lookupError(const std::string& function, const std::string& qualifier);
  functions::Outcome createUrl(const Target& target, const std::string& body);
  functions::Outcome updateUrl(const Target& target, const std::string& body);
  functions::Outcome listUrls(const std::string& name, const http::Request& request);
  functions::Outcome addPermission(const Target& target, const std::string& body);
  functions::Outcome getPolicy(const Target& target);
  functions::Outcome removePermission(const Target& target, const std::string& sid,
                                      const std::string& revision_id);
  nlohmann::json document(const urls::UrlConfig& config, bool with_modified) const;

  urls::UrlDirectory& directory_;
  urls::UrlStore& store_;
  const urls::PublicBase& base_;
  functions::FunctionService& functions_;
  boost::asio::thread_pool& workers_;
};

}  // namespace wick::api
