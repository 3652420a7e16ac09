// The FunctionName forms Lambda accepts (name, name:qualifier, partial ARN
// 123456789012:function:name[:q], full ARN arn:aws:lambda:r:a:function:name[:q])
// and the ARNs wick answers with.
#pragma once

#include <optional>
#include <string>

namespace wick::functions {

struct FunctionName {
  std::string name;
  std::string qualifier;  // empty when none was given
};

// nullopt when the text is none of the forms or the name breaks
// [a-zA-Z0-9-_]{1,64} / the qualifier [a-zA-Z0-9$_-]{1,128}.
std::optional<FunctionName> parseFunctionName(const std::string& text);
bool validFunctionName(const std::string& name);

struct ArnScope {
  std::string region = "us-east-1";
  std::string account = "000000000000";
};
std::string functionArn(const ArnScope& scope, const std::string& name,
                        const std::string& qualifier = "");

}  // namespace wick::functions
