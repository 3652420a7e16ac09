// A schedule of the EventBridge Scheduler subset (../shared/reference/events.md
// 6) and the store that keeps it durably with its next firing, so a restarted
// wickd resumes; its schedule groups (`default` always exists); and the
// client tokens that make the API's writes idempotent.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace wick::scheduler {

struct Schedule {
  std::string name;
  std::string group = "default";
  std::string description;
  std::string state = "ENABLED";  // ENABLED | DISABLED
  std::string expression;
  std::string time_zone = "UTC";
  std::string flexible_mode = "OFF";  // OFF | FLEXIBLE
  int flexible_window_minutes = 0;
  std::string action_after_completion = "NONE";  // NONE | DELETE
  std::string target_arn;
  std::string role_arn;
  std::optional<std::string> input;
  int64_t maximum_event_age_seconds = 86400;
  int64_t maximum_retry_attempts = 185;
  std::string dead_letter_arn;
  std::optional<int64_t> start_ms;
  std::optional<int64_t> end_ms;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
  // The next nominal firing (the scheduled time) and when it is delivered
  // (later within a FLEXIBLE window); none: no firing left.
  std::optional<int64_t> next_ms;
  std::optional<int64_t> due_ms;
};

nlohmann::json toStoredJson(const Schedule& schedule);
Schedule fromStoredJson(const nlohmann::json& document);

constexpr const char* kDefaultGroup = "default";

struct ScheduleGroup {
  std::string name;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
};

// What an idempotent write answered, under its client token.
struct TokenUse {
  std::string request;   // the request it was (operation, names, body without the token)
  std::string response;  // the answer's body
};

class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;
  // false: a schedule of that name exists in its group.
  virtual Result<bool> create(const Schedule& schedule) = 0;
  // Replaces the schedule if its modified_ms is still `expected_modified_ms`
  // (nothing changed it meanwhile); false otherwise or when it is gone.
  virtual Result<bool> replace(const Schedule& schedule, int64_t expected_modified_ms) = 0;
  virtual Result<std::optional<Schedule>> get(const std::string& group,
                                              const std::string& name) = 0;
  virtual Result<std::vector<Schedule>> list() = 0;  // by group, then name
  // expected_modified_ms: only if unchanged (the firing loop); none: always.
  virtual Result<bool> remove(const std::string& group, const std::string& name,
                              std::optional<int64_t> expected_modified_ms = std::nullopt) = 0;

  // false: a group of that name exists.
  virtual Result<bool> createGroup(const ScheduleGroup& group) = 0;
  virtual Result<std::optional<ScheduleGroup>> getGroup(const std::string& name) = 0;
  virtual Result<std::vector<ScheduleGroup>> listGroups() = 0;  // by name
  // The group and its schedules, in one step; none: no such group.
  virtual Result<std::optional<size_t>> removeGroup(const std::string& name) = 0;

  // The earlier use of a client token (within `since_ms`), if any.
  virtual Result<std::optional<TokenUse>> tokenUse(const std::string& token, int64_t since_ms) = 0;
  // Remembers one (and forgets those older than `since_ms`).
  virtual Status rememberToken(const std::string& token, const TokenUse& use, int64_t now_ms,
                               int64_t since_ms) = 0;
  // Enabled schedules whose delivery is due at `now_ms`.
  virtual Result<std::vector<Schedule>> due(int64_t now_ms) = 0;
  // The earliest delivery time of an enabled schedule.
  virtual Result<std::optional<int64_t>> nextDue() = 0;
};

// The schedules in a table of `path` (the state dir's events.db), SQLite
// committed with synchronous=FULL.
Result<std::unique_ptr<ScheduleStore>> openSqliteScheduleStore(const std::string& path);

}  // namespace wick::scheduler
