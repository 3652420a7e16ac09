#include "host/scheduler/schedule_expression.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <sstream>
#include <vector>

namespace wick::scheduler {

namespace {

using date::days;
using date::local_days;
using date::local_seconds;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int kFirstYear = 1970;
constexpr int kLastYear = 2199;

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  for (std::string_view part : split(text, ' '))
    if (!part.empty()) out.push_back(part);
  return out;
}

std::optional<int> number(std::string_view text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

constexpr std::array<const char*, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<const char*, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// A value of a field: a number, or a name (JAN.., SUN..) where the field has them.
template <size_t N>
std::optional<int> value(std::string_view text, const std::array<const char*, N>* names) {
  if (auto n = number(text)) return n;
  if (names == nullptr) return std::nullopt;
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (size_t i = 0; i < N; ++i)
    if (upper == (*names)[i]) return static_cast<int>(i) + 1;
  return std::nullopt;
}

// "*", "5", "1-5", "*/15", "10-50/10", "MON-FRI", and lists of them, into bits
// min..max. False when the field is not of that form or leaves its range.
template <size_t Bits, size_t N = 1>
bool parseField(std::string_view field, int min, int max, std::bitset<Bits>& bits,
                const std::array<const char*, N>* names = nullptr) {
  for (std::string_view element : split(field, ',')) {
    std::string_view range = element;
    int step = 1;
    if (const size_t slash = element.find('/'); slash != std::string_view::npos) {
      auto parsed = number(element.substr(slash + 1));
      if (!parsed || *parsed < 1) return false;
      step = *parsed;
      range = element.substr(0, slash);
    }
    int from = min, to = max;
    if (range != "*") {
      const size_t dash = range.find('-');
      auto first = value(range.substr(0, dash), names);
      if (!first) return false;
      from = *first;
      to = from;
      if (dash != std::string_view::npos) {
        auto last = value(range.substr(dash + 1), names);
        if (!last) return false;
        to = *last;
      } else if (step != 1) {
        to = max;  // "5/15": from 5, every 15
      }
    }
    if (from < min || to > max || from > to) return false;
    // (A step past the range leaves `from` alone; v + step must not overflow.)
    for (int v = from; v <= to; v = step > to - v ? to + 1 : v + step)
      bits.set(static_cast<size_t>(v - (Bits == 230 ? kFirstYear : 0)));
  }
  return true;
}

bool parseDayOfMonth(std::string_view field, CronFields& cron) {
  if (field == "?") return cron.any_day_of_month = true;
  if (field == "L") return cron.last_day_of_month = true;
  if (field == "LW") return cron.last_weekday_of_month = true;
  if (field.size() > 1 && field.back() == 'W') {
    auto day = number(field.substr(0, field.size() - 1));
    if (!day || *day < 1 || *day > 31) return false;
    cron.nearest_weekday_to = *day;
    return true;
  }
  return parseField(field, 1, 31, cron.days_of_month);
}

bool parseDayOfWeek(std::string_view field, CronFields& cron) {
  if (field == "?") return cron.any_day_of_week = true;
  if (field == "L") {  // the last day of the week: Saturday
    cron.days_of_week.set(7);
    return true;
  }
  if (field.size() > 1 && field.back() == 'L') {
    auto day = value(field.substr(0, field.size() - 1), &kDayNames);
    if (!day || *day < 1 || *day > 7) return false;
    cron.last_day_of_week = *day;
    return true;
  }
  if (const size_t hash = field.find('#'); hash != std::string_view::npos) {
    auto day = value(field.substr(0, hash), &kDayNames);
    auto nth = number(field.substr(hash + 1));
    if (!day || *day < 1 || *day > 7 || !nth || *nth < 1 || *nth > 5) return false;
    cron.nth_day_of_week = *day;
    cron.nth_occurrence = *nth;
    return true;
  }
  return parseField(field, 1, 7, cron.days_of_week, &kDayNames);
}

std::optional<CronFields> parseCron(std::string_view body) {
  const auto fields = words(body);
  if (fields.size() != 6) return std::nullopt;
  CronFields cron;
  if (!parseField(fields[0], 0, 59, cron.minutes) || !parseField(fields[1], 0, 23, cron.hours) ||
      !parseDayOfMonth(fields[2], cron) ||
      !parseField(fields[3], 1, 12, cron.months, &kMonthNames) ||
      !parseDayOfWeek(fields[4], cron) || !parseField(fields[5], kFirstYear, kLastYear, cron.years))
    return std::nullopt;
  // Exactly one of the two day fields is `?`.
  if (cron.any_day_of_month == cron.any_day_of_week) return std::nullopt;
  return cron;
}

std::optional<minutes> parseRate(std::string_view body) {
  const auto parts = words(body);
  if (parts.size() != 2) return std::nullopt;
  auto count = number(parts[0]);
  if (!count || *count < 1) return std::nullopt;
  // As EventBridge: "1 minute", "5 minutes"; the unit agrees with the number.
  const std::string_view unit = parts[1];
  const bool one = *count == 1;
  if (unit == (one ? "minute" : "minutes")) return minutes(*count);
  if (unit == (one ? "hour" : "hours")) return hours(*count);
  if (unit == (one ? "day" : "days")) return days(*count);
  return std::nullopt;
}

std::optional<local_seconds> parseAt(std::string_view body) {
  std::istringstream in{std::string(body)};
  local_seconds at;
  in >> date::parse("%Y-%m-%dT%H:%M:%S", at);
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  return at;
}

const date::time_zone* zoneFor(const std::string& name) {
  try {
    return date::locate_zone(name.empty() ? "UTC" : name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// A local time as an instant: the first minute after a skipped hour, the
// first occurrence of a repeated one.
Seconds toSys(const date::time_zone& zone, local_seconds local) {
  const date::local_info info = zone.get_info(local);
  if (info.result == date::local_info::nonexistent) return info.second.begin;
  return Seconds(local.time_since_epoch() - info.first.offset);
}

unsigned lastDay(date::year_month ym) {
  return static_cast<unsigned>(
      date::year_month_day_last(ym.year(), date::month_day_last(ym.month())).day());
}

bool weekdayOn(date::year_month ym, unsigned day) {
  const auto wd = date::weekday(date::sys_days(ym / date::day(day))).c_encoding();  // 0 = Sun
  return wd != 0 && wd != 6;
}

// The weekday nearest `day` in its month (never crossing into another month).
unsigned nearestWeekday(date::year_month ym, unsigned day) {
  const unsigned last = lastDay(ym);
  day = std::min(day, last);
  const unsigned wd = date::weekday(date::sys_days(ym / date::day(day))).c_encoding();
  if (wd == 6) return day == 1 ? 3 : day - 1;           // Saturday: Friday, or Monday the 3rd
  if (wd == 0) return day == last ? day - 2 : day + 1;  // Sunday: Monday, or Friday
  return day;
}

bool dayMatches(const CronFields& cron, date::year_month ym, unsigned day) {
  const unsigned last = lastDay(ym);
  if (cron.any_day_of_week) {
    if (cron.last_day_of_month) return day == last;
    if (cron.last_weekday_of_month) {
      unsigned weekday = last;
      while (!weekdayOn(ym, weekday))
        --weekday;
      return day == weekday;
    }
    if (cron.nearest_weekday_to) return day == nearestWeekday(ym, cron.nearest_weekday_to);
    return cron.days_of_month.test(day);
  }
  const int weekday =
      static_cast<int>(date::weekday(date::sys_days(ym / date::day(day))).c_encoding()) + 1;
  if (cron.last_day_of_week) return weekday == cron.last_day_of_week && day + 7 > last;
  if (cron.nth_day_of_week)
    return weekday == cron.nth_day_of_week &&
           static_cast<int>((day - 1) / 7 + 1) == cron.nth_occurrence;
  return cron.days_of_week.test(static_cast<size_t>(weekday));
}

std::optional<Seconds> nextCron(const CronFields& cron, const date::time_zone& zone,
                                Seconds after) {
  // Start a little before `after` in local time: a repeated hour may map
  // earlier local times after it; every candidate is checked against it.
  const local_seconds from = zone.to_local(after) - hours(3);
  const local_days first_day = date::floor<days>(from);
  for (local_days day = first_day;; day += days(1)) {
    const date::year_month_day ymd(day);
    const int year = static_cast<int>(ymd.year());
    if (year > kLastYear) return std::nullopt;
    if (year < kFirstYear || !cron.years.test(static_cast<size_t>(year - kFirstYear))) {
      day = date::local_days(date::year(year) / date::December / 31);  // on to next year
      continue;
    }
    if (!cron.months.test(static_cast<unsigned>(ymd.month())) ||
        !dayMatches(cron, ymd.year() / ymd.month(), static_cast<unsigned>(ymd.day())))
      continue;
    for (int hour = 0; hour < 24; ++hour) {
      if (!cron.hours.test(static_cast<size_t>(hour))) continue;
      for (int minute = 0; minute < 60; ++minute) {
        if (!cron.minutes.test(static_cast<size_t>(minute))) continue;
        const local_seconds local = day + hours(hour) + minutes(minute);
        if (local < from) continue;
        const Seconds at = toSys(zone, local);
        if (at > after) return at;
      }
    }
  }
}

}  // namespace

Result<ScheduleExpression> parseScheduleExpression(std::string_view text) {
  ScheduleExpression expression;
  expression.text = std::string(text);
  const Error invalid("Invalid Schedule Expression " + std::string(text) + ".", EINVAL);
  text = trim(text);
  const size_t open = text.find('(');
  if (open == std::string_view::npos || text.back() != ')') return invalid;
  const std::string_view kind = text.substr(0, open);
  const std::string_view body = text.substr(open + 1, text.size() - open - 2);
  if (kind == "at") {
    auto at = parseAt(body);
    if (!at) return invalid;
    expression.kind = ScheduleExpression::Kind::kAt;
    expression.at = *at;
  } else if (kind == "rate") {
    auto period = parseRate(body);
    if (!period) return invalid;
    expression.kind = ScheduleExpression::Kind::kRate;
    expression.period = *period;
  } else if (kind == "cron") {
    auto cron = parseCron(body);
    if (!cron) return invalid;
    expression.kind = ScheduleExpression::Kind::kCron;
    expression.cron = *cron;
  } else {
    return invalid;
  }
  return expression;
}

bool knownTimeZone(const std::string& time_zone) {
  return zoneFor(time_zone) != nullptr;
}

Result<std::optional<Seconds>> nextFiring(const ScheduleExpression& expression,
                                          const std::string& time_zone, Seconds after,
                                          Seconds anchor) {
  const date::time_zone* zone = zoneFor(time_zone);
  if (zone == nullptr) return Error("unknown time zone " + time_zone, EINVAL);
  switch (expression.kind) {
    case ScheduleExpression::Kind::kAt: {
      const Seconds at = toSys(*zone, expression.at);
      return at > after ? std::optional<Seconds>(at) : std::nullopt;
    }
    case ScheduleExpression::Kind::kRate: {
      const seconds period = expression.period;
      const int64_t periods = after < anchor ? 1 : (after - anchor) / period + 1;
      return std::optional<Seconds>(anchor + period * periods);
    }
    case ScheduleExpression::Kind::kCron:
      return nextCron(expression.cron, *zone, after);
  }
  return std::optional<Seconds>();
}

}  // namespace wick::scheduler
