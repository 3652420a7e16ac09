#include "host/urls/resource_policy.h"

#include <regex>

#include "common/bounded_regex.h"

namespace wick::urls {

using nlohmann::json;

namespace {

std::variant<std::string, api::AwsError> stringField(const json& request, const char* key,
                                                     bool required) {
  if (!request.contains(key) || request[key].is_null()) {
    if (required)
      return api::validationError(
          "null", std::string(1, static_cast<char>(std::tolower(key[0]))) + (key + 1),
          "Member must not be null");
    return std::string();
  }
  if (!request[key].is_string())
    return api::AwsError{400, "InvalidRequestContentException",
                         std::string(key) + " must be a string"};
  return request[key].get<std::string>();
}

// "*", a service ("s3.amazonaws.com"), an account id or an ARN, as Lambda renders each.
json principalOf(const std::string& principal) {
  static const std::regex account(R"(^\d{12}$)");
  if (principal == "*") return "*";
  if (boundedMatch(principal, account)) return {{"AWS", "arn:aws:iam::" + principal + ":root"}};
  if (principal.starts_with("arn:")) return {{"AWS", principal}};
  return {{"Service", principal}};
}

bool isInvokeFunctionUrl(const json& action) {
  auto matches = [](const json& one) {
    return one.is_string() &&
           (one == "lambda:InvokeFunctionUrl" || one == "lambda:*" || one == "*");
  };
  if (action.is_array()) {
    for (const json& one : action)
      if (matches(one)) return true;
    return false;
  }
  return matches(action);
}

bool isPublic(const json& principal) {
  return principal == "*" ||
         (principal.is_object() && principal.contains("AWS") && principal["AWS"] == "*");
}

}  // namespace

std::variant<json, api::AwsError> statementFor(const json& request,
                                               const std::string& resource_arn) {
  std::string fields[3];
  const char* required[] = {"StatementId", "Action", "Principal"};
  for (int i = 0; i < 3; ++i) {
    auto value = stringField(request, required[i], true);
    if (auto* error = std::get_if<api::AwsError>(&value)) return *error;
    fields[i] = std::get<std::string>(value);
  }
  const auto& [sid, action, principal] = fields;
  static const std::regex sid_pattern(R"(^([a-zA-Z0-9-_.]+)$)");
  if (sid.size() > 100)
    return api::validationError(sid, "statementId",
                                "Member must have length less than or equal to 100");
  if (!boundedMatch(sid, sid_pattern))
    return api::validationError(
        sid, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)");
  static const std::regex action_pattern(R"(^(lambda:[*]|lambda:[a-zA-Z]+|[*])$)");
  if (!boundedMatch(action, action_pattern))
    return api::validationError(
        action, "action",
        "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])");
  static const std::regex principal_pattern(R"(^[^\s]+$)");
  if (!boundedMatch(principal, principal_pattern))
    return api::validationError(principal, "principal",
                                "Member must satisfy regular expression pattern: [^\\s]+");

  json condition = json::object();
  std::string optional[4];
  const char* optional_keys[] = {"SourceArn", "SourceAccount", "PrincipalOrgID",
                                 "FunctionUrlAuthType"};
  for (int i = 0; i < 4; ++i) {
    auto value = stringField(request, optional_keys[i], false);
    if (auto* error = std::get_if<api::AwsError>(&value)) return *error;
    optional[i] = std::get<std::string>(value);
  }
  const auto& [source_arn, source_account, org_id, url_auth_type] = optional;
  if (!url_auth_type.empty() && url_auth_type != "NONE" && url_auth_type != "AWS_IAM")
    return api::validationError(url_auth_type, "functionUrlAuthType",
                                "Member must satisfy enum value set: [AWS_IAM, NONE]");
  if (!source_account.empty()) condition["StringEquals"]["AWS:SourceAccount"] = source_account;
  if (!org_id.empty()) condition["StringEquals"]["aws:PrincipalOrgID"] = org_id;
  if (!url_auth_type.empty())
    condition["StringEquals"]["lambda:FunctionUrlAuthType"] = url_auth_type;
  if (!source_arn.empty()) condition["ArnLike"]["AWS:SourceArn"] = source_arn;
  if (request.contains("InvokedViaFunctionUrl") && !request["InvokedViaFunctionUrl"].is_null()) {
    if (!request["InvokedViaFunctionUrl"].is_boolean())
      return api::AwsError{400, "InvalidRequestContentException",
                           "InvokedViaFunctionUrl must be a boolean"};
    if (request["InvokedViaFunctionUrl"].get<bool>())
      condition["Bool"]["lambda:InvokedViaFunctionUrl"] = "true";
  }
  json statement = {{"Sid", sid},
                    {"Effect", "Allow"},
                    {"Principal", principalOf(principal)},
                    {"Action", action},
                    {"Resource", resource_arn}};
  if (!condition.empty()) statement["Condition"] = condition;
  return statement;
}

json policyDocument(const Policy& policy) {
  json statements = json::array();
  for (const PolicyStatement& statement : policy.statements)
    statements.push_back(json::parse(statement.json, nullptr, false));
  return {{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", statements}};
}

bool allowsPublicUrl(const Policy& policy) {
  for (const PolicyStatement& kept : policy.statements) {
    const json statement = json::parse(kept.json, nullptr, false);
    if (!statement.is_object() || statement.value("Effect", "") != "Allow") continue;
    if (!isPublic(statement.value("Principal", json())) ||
        !isInvokeFunctionUrl(statement.value("Action", json())))
      continue;
    if (!statement.contains("Condition")) return true;
    const json& condition = statement["Condition"];
    // Only the auth-type condition can hold for an anonymous caller.
    if (condition.size() == 1 && condition.contains("StringEquals") &&
        condition["StringEquals"].size() == 1 &&
        condition["StringEquals"].value("lambda:FunctionUrlAuthType", "") == "NONE")
      return true;
  }
  return false;
}

}  // namespace wick::urls
