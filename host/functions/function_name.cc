#include "host/functions/function_name.h"

#include <regex>
#include <vector>

#include "common/bounded_regex.h"

namespace wick::functions {

namespace {
std::vector<std::string> splitColons(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos) return parts;
    start = colon + 1;
  }
}
bool validQualifier(const std::string& qualifier) {
  static const std::regex pattern("[a-zA-Z0-9$_-]{1,128}");
  return boundedMatch(qualifier, pattern);
}
}  // namespace

bool validFunctionName(const std::string& name) {
  static const std::regex pattern("[a-zA-Z0-9_-]{1,64}");
  return boundedMatch(name, pattern);
}

std::optional<FunctionName> parseFunctionName(const std::string& text) {
  std::vector<std::string> parts = splitColons(text);
  FunctionName parsed;
  if (parts.size() <= 2) {  // name[:qualifier]
    parsed.name = parts[0];
    if (parts.size() == 2) parsed.qualifier = parts[1];
  } else if (parts[0] == "arn") {  // arn:aws:lambda:region:account:function:name[:q]
    if (parts.size() < 7 || parts.size() > 8 || parts[2] != "lambda" || parts[5] != "function")
      return std::nullopt;
    parsed.name = parts[6];
    if (parts.size() == 8) parsed.qualifier = parts[7];
  } else {  // account:function:name[:q]
    if (parts.size() > 4 || parts[1] != "function") return std::nullopt;
    parsed.name = parts[2];
    if (parts.size() == 4) parsed.qualifier = parts[3];
  }
  if (!validFunctionName(parsed.name)) return std::nullopt;
  // A colon promises a qualifier: "f:" is not a name.
  const bool has_qualifier = parts.size() == 2 || parts.size() == 4 || parts.size() == 8;
  if (has_qualifier && !validQualifier(parsed.qualifier)) return std::nullopt;
  return parsed;
}

std::string functionArn(const ArnScope& scope, const std::string& name,
                        const std::string& qualifier) {
  std::string arn = "arn:aws:lambda:" + scope.region + ":" + scope.account + ":function:" + name;
  if (!qualifier.empty()) arn += ":" + qualifier;
  return arn;
}

}  // namespace wick::functions
