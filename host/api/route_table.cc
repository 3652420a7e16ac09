#include "host/api/route_table.h"

#include <algorithm>

#include "host/http/server.h"

namespace wick::api {

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> segments = pathComponents(path);
  for (auto& segment : segments)
    segment = http::percentDecode(segment);
  return segments;
}

const std::string& PathParams::operator[](std::string_view name) const {
  static const std::string kNone;
  for (const auto& [key, value] : values_)
    if (key == name) return value;
  return kNone;
}

std::optional<PathParams> matchPath(std::string_view pattern,
                                    const std::vector<std::string>& segments) {
  return matchPath(pathComponents(pattern), segments);
}

std::optional<PathParams> matchPath(const std::vector<std::string>& pattern,
                                    const std::vector<std::string>& segments) {
  PathParams params;
  size_t index = 0;
  for (const std::string& part : pattern) {
    const bool variable = part.size() > 2 && part.front() == '{' && part.back() == '}';
    if (variable && part[part.size() - 2] == '*') {  // {Name*}: the rest, if any
      params.rest_.assign(segments.begin() + static_cast<std::ptrdiff_t>(index), segments.end());
      return params;
    }
    if (index == segments.size()) return std::nullopt;
    if (variable)
      params.values_.emplace_back(part.substr(1, part.size() - 2), segments[index]);
    else if (segments[index] != part)
      return std::nullopt;
    ++index;
  }
  if (index != segments.size()) return std::nullopt;
  return params;
}

AwsError unknownOperation(Method method, std::string_view raw_path,
                          const std::vector<Method>& allowed) {
  AwsError error{
      allowed.empty() ? 404 : 405, "UnknownOperationException",
      "Unknown operation: " + std::string(to_string(method)) + " " + std::string(raw_path)};
  std::string allow;
  for (size_t i = 0; i < allowed.size(); ++i)
    if (std::find(allowed.begin(), allowed.begin() + static_cast<std::ptrdiff_t>(i), allowed[i]) ==
        allowed.begin() + static_cast<std::ptrdiff_t>(i))
      allow += (allow.empty() ? "" : ", ") + std::string(to_string(allowed[i]));
  if (!allow.empty()) error.extra_headers["Allow"] = allow;
  return error;
}

}  // namespace wick::api
