#include "host/async/schedule_origin.h"

#include <date/date.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace wick::async {

using nlohmann::json;

std::string toOriginJson(const ScheduleOrigin& origin) {
  return json{{"schedule_arn", origin.schedule_arn},
              {"target_arn", origin.target_arn},
              {"execution_id", origin.execution_id},
              {"scheduled_ms", origin.scheduled_ms},
              {"maximum_event_age_seconds", origin.maximum_event_age_seconds},
              {"maximum_retry_attempts", origin.maximum_retry_attempts},
              {"dead_letter_arn", origin.dead_letter_arn}}
      .dump();
}

std::optional<ScheduleOrigin> parseOrigin(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const json stored = json::parse(text, nullptr, false);
  if (!stored.is_object() || !stored.contains("schedule_arn")) return std::nullopt;
  ScheduleOrigin origin;
  try {
    origin.schedule_arn = stored.value("schedule_arn", "");
    origin.target_arn = stored.value("target_arn", "");
    origin.execution_id = stored.value("execution_id", "");
    origin.scheduled_ms = stored.value("scheduled_ms", int64_t{0});
    origin.maximum_event_age_seconds = stored.value("maximum_event_age_seconds", int64_t{86400});
    origin.maximum_retry_attempts = stored.value("maximum_retry_attempts", 185);
    origin.dead_letter_arn = stored.value("dead_letter_arn", "");
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return origin;
}

ScheduleRetry decideScheduleRetry(const ScheduleOrigin& origin, bool retryable, int retries,
                                  int64_t now_ms, const RetryDelays& delays) {
  if (!retryable) return {true, "", 0};
  if (retries >= origin.maximum_retry_attempts) return {true, "MaximumRetryAttempts", 0};
  // Exponential backoff over the async queue's throttle waits (operators shorten them).
  const int64_t longest = std::max<int64_t>(delays.throttle_max.count(), 1);
  int64_t wait = std::max<int64_t>(delays.throttle_first.count(), 1);
  for (int doubled = 0; doubled < retries && wait < longest; ++doubled)
    wait *= 2;
  wait = std::min(wait, longest);
  const int64_t next = now_ms + wait;
  if (next > origin.scheduled_ms + origin.maximum_event_age_seconds * 1000)
    return {true, "MaximumEventAgeInSeconds", 0};
  return {false, "", next};
}

std::vector<destinations::MessageAttribute> scheduleDeadLetterAttributes(
    const ScheduleOrigin& origin, const std::string& error_code, const std::string& error_message,
    int retries, const std::string& exhausted) {
  const date::sys_seconds scheduled{std::chrono::seconds(origin.scheduled_ms / 1000)};
  std::vector<destinations::MessageAttribute> attributes = {
      {"ERROR_CODE", "String", error_code},
      {"ERROR_MESSAGE", "String", destinations::utf8Prefix(error_message, 1024)},
      {"EXECUTION_ID", "String", origin.execution_id}};
  if (!exhausted.empty()) attributes.push_back({"EXHAUSTED_RETRY_CONDITION", "String", exhausted});
  attributes.push_back({"IS_PAYLOAD_TRUNCATED", "String", "false"});
  attributes.push_back({"RETRY_ATTEMPTS", "String", std::to_string(retries)});
  attributes.push_back({"SCHEDULED_TIME", "String", date::format("%FT%TZ", scheduled)});
  attributes.push_back({"SCHEDULE_ARN", "String", origin.schedule_arn});
  attributes.push_back({"TARGET_ARN", "String", origin.target_arn});
  return attributes;
}

}  // namespace wick::async
