#include "host/api/scheduler_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <regex>

#include "common/ids.h"
#include "host/api/aws_try.h"
#include "host/api/outcome_response.h"
#include "host/api/scheduler_errors.h"
#include "host/functions/function_name.h"
#include "host/invoke/payload_json.h"
#include "host/scheduler/firing.h"
#include "host/scheduler/schedule_expression.h"

namespace wick::api {

namespace asio = boost::asio;
using http::beast_http::verb;
using nlohmann::json;
using scheduler::Schedule;

namespace {

constexpr std::string_view kCollection = "/schedules";
constexpr std::string_view kGroups = "/schedule-groups";

int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using scheduler_errors::groupNotFound;
using scheduler_errors::validation;
using scheduler_errors::validName;

AwsError notFound(const std::string& name) {
  return {404, "ResourceNotFoundException", "Schedule " + name + " does not exist."};
}

// The group a request names ("" = default).
std::variant<std::string, AwsError> groupName(const std::string& given) {
  if (given.empty()) return std::string(scheduler::kDefaultGroup);
  if (!validName(given))
    return validation("GroupName " + given +
                      " must match ^[0-9a-zA-Z-_.]+$ and be 1-64 characters.");
  return given;
}

// Client tokens are remembered this long (AWS does not say; its other
// services keep theirs for hours).
constexpr int64_t kTokenLifeMs = 8LL * 3600 * 1000;

// Epoch seconds (a number, possibly fractional) as botocore sends them.
std::variant<std::optional<int64_t>, AwsError> timestampMs(const json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) return std::optional<int64_t>();
  // From 1970 to 9999-12-31 (what clients parse back): a bigger number
  // overflowed llround and was kept as a date in year -292 million.
  constexpr double kLastSecond = 253402300799.0;
  if (!body[key].is_number() || !(body[key].get<double>() >= 0) ||
      body[key].get<double>() > kLastSecond)
    return validation(std::string(key) + " must be a timestamp.");
  return std::optional<int64_t>(std::llround(body[key].get<double>() * 1000));
}

// An integer member of `object` (absent: `fallback`) within min..max. A
// value of another type threw from json::value (a 500), and a big one was
// narrowed into the range before it was checked.
std::variant<int64_t, AwsError> integerField(const json& object, const char* key, int64_t fallback,
                                             int64_t min, int64_t max, const std::string& error) {
  int64_t number = fallback;
  if (object.contains(key) && !object[key].is_null()) {
    const json& value = object[key];
    if (!value.is_number_integer() ||
        (value.is_number_unsigned() &&
         value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
      return validation(error);
    number = value.get<int64_t>();
  }
  if (number < min || number > max) return validation(error);
  return number;
}

json seconds(int64_t ms) {
  return static_cast<double>(ms) / 1000.0;
}

std::string stringField(const json& object, const char* key) {
  return object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : "";
}

}  // namespace

bool SchedulerApi::claims(const http::Request& request) {
  for (std::string_view collection : {kCollection, kGroups})
    if (request.path == collection || (request.path.starts_with(std::string(collection) + "/") &&
                                       request.path.size() > collection.size() + 1))
      return true;
  return false;
}

asio::awaitable<http::Response> SchedulerApi::handle(http::Request request) {
  const std::string request_id = newUuid();
  functions::Outcome outcome =
      co_await outcomeOnWorkers(workers_, request, [&] { return answer(request); });
  http::Response response = respond(outcome, request, request_id);
  // Scheduler's rest-json errors: the exception name in x-amzn-ErrorType,
  // only {"Message"} in the body.
  if (auto* error = std::get_if<AwsError>(&outcome))
    response.body() = json{{"Message", error->message}}.dump();
  co_return response;
}

functions::Outcome SchedulerApi::answer(const http::Request& request) {
  if (request.path == kGroups || request.path.starts_with(std::string(kGroups) + "/"))
    return answerGroups(request);
  if (request.path == kCollection) {
    if (request.method != verb::get) return AwsError{405, "ValidationException", "GET only"};
    return list(request);
  }
  const std::string name = http::percentDecode(request.path.substr(kCollection.size() + 1));
  if (!validName(name))
    return validation("Name " + name + " must match ^[0-9a-zA-Z-_.]+$ and be 1-64 characters.");
  switch (request.method) {
    case verb::post:
      return write(name, request.body, true);
    case verb::put:
      return write(name, request.body, false);
    case verb::get:
      return get(name, request);
    case verb::delete_:
      return remove(name, request);
    default:
      return AwsError{405, "ValidationException", "Unsupported method"};
  }
}

functions::Outcome SchedulerApi::idempotent(const std::string& token, const std::string& request,
                                            const std::function<functions::Outcome()>& perform) {
  std::lock_guard lock(writes_);  // one write at a time: a token is checked and kept atomically
  if (token.empty()) return perform();
  static const std::regex pattern("^[a-zA-Z0-9_-]{1,64}$");
  if (!std::regex_match(token, pattern))
    return validation("ClientToken must match ^[a-zA-Z0-9-_]+$ and be 1-64 characters.");
  const int64_t now = nowMillis();
  AWS_TRY(used, schedules_.tokenUse(token, now - kTokenLifeMs));
  if (used) {
    if (used->request != request)
      return AwsError{409, "ConflictException",
                      "The ClientToken " + token + " was already used with a different request."};
    return functions::Reply{200, json::parse(used->response, nullptr, false)};
  }
  functions::Outcome outcome = perform();
  if (const auto* reply = std::get_if<functions::Reply>(&outcome); reply && reply->status == 200) {
    const std::string response = reply->body ? reply->body->dump() : "{}";
    if (Status kept = schedules_.rememberToken(token, {request, response}, now, now - kTokenLifeMs);
        !kept)
      spdlog::warn("scheduler: client token {}: {}", token, kept.error().message());
  }
  return outcome;
}

std::optional<AwsError> SchedulerApi::checkTarget(const std::string& arn) {
  const std::string ours = functions::functionArn(functions_.settings().scope, "");
  auto named = functions::parseFunctionName(arn);
  if (!arn.starts_with(ours) || !named)
    return validation("Target " + arn + " is not supported: wick's schedules target Lambda " +
                      "functions of this host (" + ours + "NAME).");
  auto resolved = functions_.resolve(named->name, named->qualifier);
  if (auto* error = std::get_if<AwsError>(&resolved)) {
    // A registry failure is ours (a 500, its cause logged), not a bad target.
    if (error->status >= 500) return *error;
    return validation("Target " + arn + " does not exist: " + error->message);
  }
  return std::nullopt;
}

std::variant<Schedule, AwsError> SchedulerApi::parse(const std::string& name, const json& body) {
  Schedule s;
  s.name = name;
  AWS_TRY(group, groupName(stringField(body, "GroupName")));
  s.group = group;
  s.expression = stringField(body, "ScheduleExpression");
  if (s.expression.empty() || s.expression.size() > 256 ||
      !scheduler::parseScheduleExpression(s.expression))
    return validation("Invalid Schedule Expression " + s.expression + ".");
  if (body.contains("ScheduleExpressionTimezone")) {
    s.time_zone = stringField(body, "ScheduleExpressionTimezone");
    if (s.time_zone.empty() || s.time_zone.size() > 50 || !scheduler::knownTimeZone(s.time_zone))
      return validation("Invalid time zone " + s.time_zone + ".");
  }
  const json window = body.value("FlexibleTimeWindow", json());
  if (!window.is_object()) return validation("FlexibleTimeWindow is required.");
  s.flexible_mode = stringField(window, "Mode");
  if (s.flexible_mode == "FLEXIBLE") {
    AWS_TRY(minutes,
            integerField(window, "MaximumWindowInMinutes", 0, 1, 1440,
                         "MaximumWindowInMinutes must be between 1 and 1440 for FLEXIBLE."));
    s.flexible_window_minutes = static_cast<int>(minutes);
  } else if (s.flexible_mode != "OFF") {
    return validation("FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.");
  }
  s.state = body.contains("State") ? stringField(body, "State") : "ENABLED";
  if (s.state != "ENABLED" && s.state != "DISABLED")
    return validation("State must be ENABLED or DISABLED.");
  s.action_after_completion =
      body.contains("ActionAfterCompletion") ? stringField(body, "ActionAfterCompletion") : "NONE";
  if (s.action_after_completion != "NONE" && s.action_after_completion != "DELETE")
    return validation("ActionAfterCompletion must be NONE or DELETE.");
  s.description = stringField(body, "Description");
  if (s.description.size() > 512) return validation("Description must be at most 512 characters.");
  const json target = body.value("Target", json());
  if (!target.is_object()) return validation("Target is required.");
  s.target_arn = stringField(target, "Arn");
  s.role_arn = stringField(target, "RoleArn");
  static const std::regex role(R"(^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@\/-]+$)");
  if (s.target_arn.empty() || s.target_arn.size() > 1600)
    return validation("Target.Arn is required.");
  // (Lengths first: std::regex recurses once per character it matches, and
  // a 100 KB ARN overflowed the stack.)
  if (s.role_arn.size() > 1600 || !std::regex_match(s.role_arn, role))
    return validation("Target.RoleArn " + s.role_arn + " is not a role ARN.");
  AWS_CHECK(checkTarget(s.target_arn));
  if (target.contains("Input")) {
    s.input = stringField(target, "Input");
    if (s.input->empty() || !json::accept(*s.input))
      return validation("Target.Input must be well-formed JSON for a Lambda target.");
  }
  const json retry = target.value("RetryPolicy", json::object());
  if (!retry.is_object() && !retry.is_null())
    return validation("Target.RetryPolicy must be an object.");
  AWS_TRY(age, integerField(retry, "MaximumEventAgeInSeconds", 86400, 60, 86400,
                            "MaximumEventAgeInSeconds must be between 60 and 86400."));
  AWS_TRY(retries, integerField(retry, "MaximumRetryAttempts", 185, 0, 185,
                                "MaximumRetryAttempts must be between 0 and 185."));
  s.maximum_event_age_seconds = age;
  s.maximum_retry_attempts = retries;
  if (target.contains("DeadLetterConfig")) {
    s.dead_letter_arn = stringField(target["DeadLetterConfig"], "Arn");
    static const std::regex sqs(R"(^arn:aws(-[a-z]+)?:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+$)");
    if (s.dead_letter_arn.size() > 1600 || !std::regex_match(s.dead_letter_arn, sqs))
      return validation("DeadLetterConfig.Arn must be an SQS queue ARN.");
  }
  AWS_TRY(start, timestampMs(body, "StartDate"));
  AWS_TRY(end, timestampMs(body, "EndDate"));
  s.start_ms = start;
  s.end_ms = end;
  if (s.start_ms && *s.start_ms < nowMillis() - 5 * 60 * 1000)
    return validation("The StartDate you specify cannot be earlier than 5 minutes ago.");
  if (s.start_ms && s.end_ms && *s.end_ms <= *s.start_ms)
    return validation("The EndDate you specify must be later than the StartDate.");
  return s;
}

functions::Outcome SchedulerApi::write(const std::string& name, const std::string& text,
                                       bool create) {
  // Deeper than any request: its body.dump() below overflowed the stack.
  if (invoke::jsonNesting(text) > invoke::kMaxDomNesting)
    return validation("The request body is nested too deeply.");
  json body = json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!body.is_object()) return validation("The request body is not a JSON object.");
  for (const char* key : {"ClientToken", "GroupName"})
    if (body.contains(key) && !body[key].is_string())
      return validation(std::string(key) + " must be a string.");
  const std::string token = stringField(body, "ClientToken");
  body.erase("ClientToken");
  const std::string request =
      std::string(create ? "CreateSchedule" : "UpdateSchedule") + "\n" + name + "\n" + body.dump();
  return idempotent(token, request, [&]() -> functions::Outcome {
    AWS_TRY(schedule, parse(name, body));
    AWS_TRY(group, schedules_.getGroup(schedule.group));
    if (!group) return groupNotFound(schedule.group);
    const int64_t now = nowMillis();
    AWS_TRY(existing, schedules_.get(schedule.group, name));
    if (create && existing)
      return AwsError{409, "ConflictException", "Schedule " + name + " already exists."};
    if (!create && !existing) return notFound(name);
    schedule.created_ms = existing ? existing->created_ms : now;
    schedule.modified_ms = std::max(now, existing ? existing->modified_ms + 1 : now);
    const scheduler::Clock clock{now, runner_.settings().minute_ms};
    auto expression = scheduler::parseScheduleExpression(schedule.expression);
    AWS_TRY(next, scheduler::firingAfter(schedule, *expression, now - 1, clock));
    schedule.next_ms = next;
    if (next) {
      std::mt19937_64 random{std::random_device{}()};
      schedule.due_ms = scheduler::deliveryTime(schedule, *next, clock, random);
    }
    const std::string arn = scheduler::scheduleArn(runner_.settings().scope, schedule);
    if (create) {
      AWS_TRY(created, schedules_.create(schedule));
      if (!created)
        return AwsError{409, "ConflictException", "Schedule " + name + " already exists."};
    } else {
      AWS_TRY(replaced, schedules_.replace(schedule, existing->modified_ms));
      if (!replaced)
        return AwsError{409, "ConflictException",
                        "Schedule " + name + " changed meanwhile; try again."};
    }
    runner_.wake();
    return functions::Reply{200, json{{"ScheduleArn", arn}}};
  });
}

functions::Outcome SchedulerApi::get(const std::string& name, const http::Request& request) {
  AWS_TRY(group, groupName(request.queryValue("groupName")));
  AWS_TRY(found_group, schedules_.getGroup(group));
  if (!found_group) return groupNotFound(group);
  AWS_TRY(found, schedules_.get(group, name));
  if (!found) return notFound(name);
  return functions::Reply{200, document(*found)};
}

functions::Outcome SchedulerApi::remove(const std::string& name, const http::Request& request) {
  AWS_TRY(group, groupName(request.queryValue("groupName")));
  const std::string request_text = "DeleteSchedule\n" + group + "\n" + name;
  return idempotent(request.queryValue("clientToken"), request_text, [&]() -> functions::Outcome {
    AWS_TRY(found_group, schedules_.getGroup(group));
    if (!found_group) return groupNotFound(group);
    AWS_TRY(removed, schedules_.remove(group, name));
    if (!removed) return notFound(name);
    return functions::Reply{200, json::object()};
  });
}

functions::Outcome SchedulerApi::list(const http::Request& request) {
  // No ScheduleGroup: the schedules of every group.
  const std::string only_group = request.queryValue("ScheduleGroup");
  if (!only_group.empty()) {
    AWS_TRY(group, groupName(only_group));
    AWS_TRY(found_group, schedules_.getGroup(group));
    if (!found_group) return groupNotFound(group);
  }
  const std::string prefix = request.queryValue("NamePrefix");
  const std::string state = request.queryValue("State");
  const std::string token = request.queryValue("NextToken");
  int64_t max = 100;
  if (const std::string text = request.queryValue("MaxResults"); !text.empty()) {
    max = std::atoll(text.c_str());
    if (max < 1 || max > 100) return validation("MaxResults must be between 1 and 100.");
  }
  if (!state.empty() && state != "ENABLED" && state != "DISABLED")
    return validation("State must be ENABLED or DISABLED.");
  // NextToken: "group/name" of the last schedule given.
  const size_t slash = token.find('/');
  const std::pair<std::string, std::string> after =
      slash == std::string::npos ? std::pair<std::string, std::string>{"", token}
                                 : std::pair{token.substr(0, slash), token.substr(slash + 1)};
  AWS_TRY(all, schedules_.list());
  json summaries = json::array();
  json reply = json::object();
  std::pair<std::string, std::string> last;
  for (const Schedule& s : all) {
    if (!token.empty() && std::pair{s.group, s.name} <= after) continue;
    if (!only_group.empty() && s.group != only_group) continue;
    if (!s.name.starts_with(prefix) || (!state.empty() && s.state != state)) continue;
    if (static_cast<int64_t>(summaries.size()) == max) {
      reply["NextToken"] = last.first + "/" + last.second;
      break;
    }
    last = {s.group, s.name};
    summaries.push_back({{"Arn", scheduler::scheduleArn(runner_.settings().scope, s)},
                         {"Name", s.name},
                         {"GroupName", s.group},
                         {"State", s.state},
                         {"CreationDate", seconds(s.created_ms)},
                         {"LastModificationDate", seconds(s.modified_ms)},
                         {"Target", {{"Arn", s.target_arn}}}});
  }
  reply["Schedules"] = std::move(summaries);
  return functions::Reply{200, reply};
}

json SchedulerApi::document(const Schedule& s) const {
  json target = {{"Arn", s.target_arn},
                 {"RoleArn", s.role_arn},
                 {"RetryPolicy",
                  {{"MaximumEventAgeInSeconds", s.maximum_event_age_seconds},
                   {"MaximumRetryAttempts", s.maximum_retry_attempts}}}};
  if (s.input) target["Input"] = *s.input;
  if (!s.dead_letter_arn.empty()) target["DeadLetterConfig"] = {{"Arn", s.dead_letter_arn}};
  json window = {{"Mode", s.flexible_mode}};
  if (s.flexible_mode == "FLEXIBLE") window["MaximumWindowInMinutes"] = s.flexible_window_minutes;
  json d = {{"Arn", scheduler::scheduleArn(runner_.settings().scope, s)},
            {"Name", s.name},
            {"GroupName", s.group},
            {"Description", s.description},
            {"State", s.state},
            {"ScheduleExpression", s.expression},
            {"ScheduleExpressionTimezone", s.time_zone},
            {"FlexibleTimeWindow", window},
            {"ActionAfterCompletion", s.action_after_completion},
            {"Target", target},
            {"CreationDate", seconds(s.created_ms)},
            {"LastModificationDate", seconds(s.modified_ms)}};
  if (s.start_ms) d["StartDate"] = seconds(*s.start_ms);
  if (s.end_ms) d["EndDate"] = seconds(*s.end_ms);
  return d;
}

}  // namespace wick::api
