// Schedule groups of the Scheduler subset: CreateScheduleGroup,
// GetScheduleGroup, ListScheduleGroups, DeleteScheduleGroup.
#include "common/ids.h"
#include "host/api/aws_try.h"
#include "host/api/scheduler_api.h"
#include "host/api/scheduler_errors.h"
#include "host/invoke/payload_json.h"

namespace wick::api {

using http::beast_http::verb;
using nlohmann::json;

namespace {

constexpr std::string_view kGroups = "/schedule-groups";

using scheduler_errors::groupNotFound;
using scheduler_errors::validation;

// Tags: up to 200 of {"Key": 1-128, "Value": 0-256} (kept by AWS for
// tagging; wick checks them and does not keep them).
std::optional<AwsError> checkTags(const json& body) {
  if (!body.contains("Tags")) return std::nullopt;
  const json& tags = body["Tags"];
  if (!tags.is_array() || tags.size() > 200)
    return validation("Tags must be a list of at most 200 tags.");
  for (const json& tag : tags) {
    if (!tag.is_object() || !tag.contains("Key") || !tag["Key"].is_string() ||
        !tag.contains("Value") || !tag["Value"].is_string())
      return validation("Each tag needs a Key and a Value.");
    const auto key = tag["Key"].get<std::string>();
    if (key.empty() || key.size() > 128 || tag["Value"].get<std::string>().size() > 256)
      return validation("A tag's Key is 1-128 characters and its Value at most 256.");
  }
  return std::nullopt;
}

}  // namespace

functions::Outcome SchedulerApi::answerGroups(const http::Request& request) {
  if (request.path == kGroups) {
    if (request.method != verb::get) return AwsError{405, "ValidationException", "GET only"};
    return listGroups(request);
  }
  const std::string name = http::percentDecode(request.path.substr(kGroups.size() + 1));
  if (!scheduler_errors::validName(name))
    return validation("Name " + name + " must match ^[0-9a-zA-Z-_.]+$ and be 1-64 characters.");
  switch (request.method) {
    case verb::post:
      return createGroup(name, request.body);
    case verb::get:
      return getGroup(name);
    case verb::delete_:
      return removeGroup(name, request);
    default:
      return AwsError{405, "ValidationException", "Unsupported method"};
  }
}

json SchedulerApi::groupDocument(const scheduler::ScheduleGroup& group) const {
  const auto& scope = runner_.settings().scope;
  return {{"Arn", "arn:aws:scheduler:" + scope.region + ":" + scope.account + ":schedule-group/" +
                      group.name},
          {"Name", group.name},
          {"State", "ACTIVE"},
          {"CreationDate", static_cast<double>(group.created_ms) / 1000.0},
          {"LastModificationDate", static_cast<double>(group.modified_ms) / 1000.0}};
}

functions::Outcome SchedulerApi::createGroup(const std::string& name, const std::string& text) {
  // Deeper than any request: its body.dump() below overflowed the stack.
  if (invoke::jsonNesting(text) > invoke::kMaxDomNesting)
    return validation("The request body is nested too deeply.");
  json body = json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!body.is_object()) return validation("The request body is not a JSON object.");
  if (body.contains("ClientToken") && !body["ClientToken"].is_string())
    return validation("ClientToken must be a string.");
  const std::string token = body.value("ClientToken", "");
  body.erase("ClientToken");
  const std::string request = "CreateScheduleGroup\n" + name + "\n" + body.dump();
  return idempotent(token, request, [&]() -> functions::Outcome {
    AWS_CHECK(checkTags(body));
    const int64_t now = epochMillis();
    AWS_TRY(created, schedules_.createGroup({name, now, now}));
    if (!created)
      return AwsError{409, "ConflictException", "Schedule group " + name + " already exists."};
    return functions::Reply{200,
                            json{{"ScheduleGroupArn", groupDocument({name, now, now})["Arn"]}}};
  });
}

functions::Outcome SchedulerApi::getGroup(const std::string& name) {
  AWS_TRY(group, schedules_.getGroup(name));
  if (!group) return groupNotFound(name);
  return functions::Reply{200, groupDocument(*group)};
}

functions::Outcome SchedulerApi::removeGroup(const std::string& name,
                                             const http::Request& request) {
  const std::string request_text = "DeleteScheduleGroup\n" + name;
  return idempotent(request.queryValue("clientToken"), request_text, [&]() -> functions::Outcome {
    if (name == scheduler::kDefaultGroup)
      return validation("The default schedule group cannot be deleted.");
    AWS_TRY(removed, schedules_.removeGroup(name));
    if (!removed) return groupNotFound(name);
    runner_.wake();
    return functions::Reply{200, json::object()};
  });
}

functions::Outcome SchedulerApi::listGroups(const http::Request& request) {
  const std::string prefix = request.queryValue("NamePrefix");
  const std::string token = request.queryValue("NextToken");
  int64_t max = 100;
  if (const std::string text = request.queryValue("MaxResults"); !text.empty()) {
    max = std::atoll(text.c_str());
    if (max < 1 || max > 100) return validation("MaxResults must be between 1 and 100.");
  }
  AWS_TRY(all, schedules_.listGroups());
  json groups = json::array();
  json reply = json::object();
  for (const scheduler::ScheduleGroup& group : all) {
    if (!token.empty() && group.name <= token) continue;
    if (!group.name.starts_with(prefix)) continue;
    if (static_cast<int64_t>(groups.size()) == max) {
      reply["NextToken"] = groups.back()["Name"];
      break;
    }
    groups.push_back(groupDocument(group));
  }
  reply["ScheduleGroups"] = std::move(groups);
  return functions::Reply{200, reply};
}

}  // namespace wick::api
