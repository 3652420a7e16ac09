// A function's EventInvokeConfig (../shared/reference/events.md 2), one per
// qualifier ($LATEST, a version, an alias): error handling that overrides
// Lambda's defaults, and where a finished event's record goes. Kept beside the
// event queue, behind its own interface (the SQLite file is the default).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/async/retry_policy.h"

namespace wick::async {

struct EventInvokeConfig {
  std::string function;
  std::string qualifier = "$LATEST";
  std::optional<int> maximum_retry_attempts;
  std::optional<int64_t> maximum_event_age_seconds;
  std::string on_success;  // destination ARN; "" none
  std::string on_failure;
  int64_t last_modified_ms = 0;

  ErrorHandling errorHandling() const {
    ErrorHandling handling;
    if (maximum_retry_attempts) handling.maximum_retry_attempts = *maximum_retry_attempts;
    if (maximum_event_age_seconds) handling.maximum_event_age_seconds = *maximum_event_age_seconds;
    return handling;
  }
};

class EventInvokeConfigs {
 public:
  virtual ~EventInvokeConfigs() = default;
  virtual Status put(const EventInvokeConfig& config) = 0;
  virtual Result<std::optional<EventInvokeConfig>> get(const std::string& function,
                                                       const std::string& qualifier) = 0;
  // False when there was none.
  virtual Result<bool> remove(const std::string& function, const std::string& qualifier) = 0;
  virtual Result<std::vector<EventInvokeConfig>> list(const std::string& function) = 0;
  // Every qualifier's (the function was deleted).
  virtual Status removeFunction(const std::string& function) = 0;
};

Result<std::unique_ptr<EventInvokeConfigs>> openSqliteEventInvokeConfigs(const std::string& path);

}  // namespace wick::async
