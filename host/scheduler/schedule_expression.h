// EventBridge Scheduler's schedule expressions (../shared/reference/events.md
// 6.3): at(yyyy-mm-ddThh:mm:ss), rate(N unit), and cron() with six fields
// (minutes hours day-of-month month day-of-week year; one of the two days a
// `?`; L, W and # as AWS has them), each read in the schedule's IANA time zone.
// Firings have minute precision.
//
// Across daylight-saving changes: a local time that does not exist (the hour
// skipped in spring) fires at the first minute after the gap; a local time
// that exists twice (the hour repeated in autumn) fires once, at its first
// occurrence.
#pragma once

#include <date/date.h>

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace wick::scheduler {

using Seconds = std::chrono::sys_seconds;

struct CronFields {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;       // 1..31
  bool any_day_of_month = false;       // `?`
  bool last_day_of_month = false;      // L
  bool last_weekday_of_month = false;  // LW
  int nearest_weekday_to = 0;          // nW: 1..31
  std::bitset<13> months;              // 1..12
  std::bitset<8> days_of_week;         // 1..7, 1 = Sunday
  bool any_day_of_week = false;        // `?`
  int last_day_of_week = 0;            // nL: the last such weekday of the month (1..7)
  int nth_day_of_week = 0;             // d#n: weekday d ...
  int nth_occurrence = 0;              // ... the n-th of the month (1..5)
  std::bitset<230> years;              // 1970..2199
};

struct ScheduleExpression {
  enum class Kind { kAt, kRate, kCron } kind = Kind::kRate;
  std::string text;
  // at(): a local date and time.
  date::local_seconds at{};
  // rate(): the period.
  std::chrono::minutes period{0};
  CronFields cron;
};

// A clear reason when the expression is not one EventBridge Scheduler takes.
Result<ScheduleExpression> parseScheduleExpression(std::string_view text);

// The first firing strictly after `after`, in `time_zone` (IANA name; "" =
// UTC). rate() counts its periods from `anchor` (the schedule's start date or
// creation). None when there is no further firing (an at() already past, a
// cron whose years are over).
Result<std::optional<Seconds>> nextFiring(const ScheduleExpression& expression,
                                          const std::string& time_zone, Seconds after,
                                          Seconds anchor);

// Whether `time_zone` names a zone of the host's tz database.
bool knownTimeZone(const std::string& time_zone);

}  // namespace wick::scheduler
