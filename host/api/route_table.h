// A REST route table as data: (method, path pattern, handler) rows, matched
// against a request's percent-decoded path segments. Patterns name their
// variable segments, `/2015-03-31/functions/{FunctionName}/aliases/{Name}`;
// a last segment `{Name*}` takes whatever segments remain (none or more).
//
// No pattern matches the path: 404 UnknownOperationException, as Lambda
// answers an unknown operation. A pattern matches but not the method: 405
// with an Allow header (RFC 9110 15.5.6), same exception name, so that SDKs
// still see Lambda's error shape.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/path.h"
#include "host/api/aws_error.h"

namespace wick::api {

// The decoded segments of a raw path ("/a/b%3Ac/" -> {"a", "b:c"}), empty and
// "." ones dropped (pathComponents). Each segment is decoded after the split,
// so an encoded slash stays inside it.
std::vector<std::string> splitPath(const std::string& path);

// What a pattern's named segments matched.
class PathParams {
 public:
  // The segment named `name` ({name} in the pattern); "" if the pattern has none.
  const std::string& operator[](std::string_view name) const;
  // What a trailing {Name*} took, segment by segment.
  const std::vector<std::string>& rest() const { return rest_; }

 private:
  friend std::optional<PathParams> matchPath(const std::vector<std::string>& pattern,
                                             const std::vector<std::string>& segments);
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<std::string> rest_;
};

// nullopt unless `segments` fit `pattern` segment for segment.
std::optional<PathParams> matchPath(std::string_view pattern,
                                    const std::vector<std::string>& segments);
// The same, the pattern split already (a table splits each pattern once).
std::optional<PathParams> matchPath(const std::vector<std::string>& pattern,
                                    const std::vector<std::string>& segments);

using Method = boost::beast::http::verb;

// 404 UnknownOperationException (nothing at this path), or 405 with the
// methods `allowed` there.
AwsError unknownOperation(Method method, std::string_view raw_path,
                          const std::vector<Method>& allowed);

template <typename Handler>
class RouteTable {
 public:
  struct Route {
    Method method;  // Method::unknown: any method (a sub-API that routes further)
    std::string_view pattern;
    Handler handler;
  };
  struct Match {
    const Handler& handler;
    PathParams params;
  };

  RouteTable(std::initializer_list<Route> routes) : routes_(routes) {
    for (const Route& route : routes_)
      patterns_.push_back(pathComponents(route.pattern));
  }

  // `raw_path` only names the operation in the error message.
  std::variant<Match, AwsError> find(Method method, const std::vector<std::string>& segments,
                                     std::string_view raw_path) const {
    std::vector<Method> allowed;
    for (size_t i = 0; i < routes_.size(); ++i) {
      const Route& route = routes_[i];
      auto params = matchPath(patterns_[i], segments);
      if (!params) continue;
      if (route.method == method || route.method == Method::unknown)
        return Match{route.handler, std::move(*params)};
      allowed.push_back(route.method);
    }
    return unknownOperation(method, raw_path, allowed);
  }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> patterns_;  // each route's, split
};

}  // namespace wick::api
