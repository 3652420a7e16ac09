#include "host/scheduler/schedule.h"

namespace wick::scheduler {

using nlohmann::json;

namespace {

json optionalNumber(const std::optional<int64_t>& value) {
  return value ? json(*value) : json(nullptr);
}

std::optional<int64_t> numberOrNone(const json& document, const char* key) {
  if (!document.contains(key) || document[key].is_null()) return std::nullopt;
  return document[key].get<int64_t>();
}

}  // namespace

json toStoredJson(const Schedule& s) {
  return {{"name", s.name},
          {"group", s.group},
          {"description", s.description},
          {"state", s.state},
          {"expression", s.expression},
          {"time_zone", s.time_zone},
          {"flexible_mode", s.flexible_mode},
          {"flexible_window_minutes", s.flexible_window_minutes},
          {"action_after_completion", s.action_after_completion},
          {"target_arn", s.target_arn},
          {"role_arn", s.role_arn},
          {"input", s.input ? json(*s.input) : json(nullptr)},
          {"maximum_event_age_seconds", s.maximum_event_age_seconds},
          {"maximum_retry_attempts", s.maximum_retry_attempts},
          {"dead_letter_arn", s.dead_letter_arn},
          {"start_ms", optionalNumber(s.start_ms)},
          {"end_ms", optionalNumber(s.end_ms)},
          {"created_ms", s.created_ms},
          {"modified_ms", s.modified_ms},
          {"next_ms", optionalNumber(s.next_ms)},
          {"due_ms", optionalNumber(s.due_ms)}};
}

Schedule fromStoredJson(const json& d) {
  Schedule s;
  s.name = d.at("name");
  s.group = d.at("group");
  s.description = d.at("description");
  s.state = d.at("state");
  s.expression = d.at("expression");
  s.time_zone = d.at("time_zone");
  s.flexible_mode = d.at("flexible_mode");
  s.flexible_window_minutes = d.at("flexible_window_minutes");
  s.action_after_completion = d.at("action_after_completion");
  s.target_arn = d.at("target_arn");
  s.role_arn = d.at("role_arn");
  if (!d.at("input").is_null()) s.input = d.at("input").get<std::string>();
  s.maximum_event_age_seconds = d.at("maximum_event_age_seconds");
  s.maximum_retry_attempts = d.at("maximum_retry_attempts");
  s.dead_letter_arn = d.at("dead_letter_arn");
  s.start_ms = numberOrNone(d, "start_ms");
  s.end_ms = numberOrNone(d, "end_ms");
  s.created_ms = d.at("created_ms");
  s.modified_ms = d.at("modified_ms");
  s.next_ms = numberOrNone(d, "next_ms");
  s.due_ms = numberOrNone(d, "due_ms");
  return s;
}

}  // namespace wick::scheduler
