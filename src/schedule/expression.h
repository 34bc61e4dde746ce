// EventBridge schedule expressions (PutRule's ScheduleExpression): `rate(value unit)` and
// `cron(minutes hours day-of-month month day-of-week year)`, parsed once into typed values, and the
// next time a parsed expression fires.
//
// Pure: no I/O, no clock (the caller passes the times), no shared state. All times are UTC, as AWS
// evaluates scheduled rules.
//
// What follows AWS and where Gantry chose (AWS runs a Quartz-style cron; its documentation is terse):
// - Every malformed expression is kValidation with PutRule's one message,
//   "Parameter ScheduleExpression is not valid." (AWS does not say which part is wrong).
// - rate: a positive decimal integer, one space, and "minute"/"hour"/"day" when the value is 1,
//   "minutes"/"hours"/"days" otherwise; lower case, no other whitespace. The first slot is one period
//   after the rule's creation (the anchor), then every period.
// - cron: fields separated by runs of spaces (or tabs); no whitespace just inside the parentheses.
//   Month and weekday names (JAN-DEC, SUN-SAT) are case-insensitive, as Quartz upper-cases them.
// - `?` stands alone in day-of-month or day-of-week, and exactly one of the two is `?`.
// - `L`, `LW`, `nW`, `xL` and `x#n` stand alone in their field (no lists or ranges with them), as in
//   Quartz. `L` alone in day-of-week means Saturday (the last day of the week), every week.
// - `nW` in a month without day n does not fire that month; `W` never moves into another month
//   (1W on a Saturday is Monday the 3rd; 31W on a Sunday is Friday the 29th).
// - A range whose end is below its start wraps around (`FRI-MON`, hours `22-2`), except in year.
// - A step is 1..the field's largest value (so `*/60` in minutes is refused, as AWS does).
// - Day-of-week takes no `/` (AWS's table lists `, - * ? L #` only).
#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "core/clock.h"
#include "core/error.h"

namespace gantry::schedule {

struct Rate {
  int64_t value = 1;
  enum class Unit { kMinute, kHour, kDay } unit = Unit::kMinute;
  std::chrono::seconds period() const;
};

inline constexpr int kMinYear = 1970;
inline constexpr int kMaxYear = 2199;

// The six fields, each as the set of values it allows. Day-of-month and day-of-week: exactly one is
// `?` (its `any_*` flag set); the other says which days fire, as a set or one special form.
struct Cron {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<13> months;  // 1..12
  std::bitset<kMaxYear - kMinYear + 1> years;  // index = year - 1970

  bool any_day_of_month = false;  // `?`
  std::bitset<32> days_of_month;  // 1..31
  bool last_day_of_month = false;      // `L`
  bool last_weekday_of_month = false;  // `LW`
  int nearest_weekday_to = 0;          // `nW`: n, 0 when unused

  bool any_day_of_week = false;  // `?`
  std::bitset<8> days_of_week;   // 1..7, 1 = Sunday
  int last_of_month_weekday = 0;  // `xL`: x (1..7), 0 when unused
  int nth_weekday = 0;            // `x#n`: x (1..7), 0 when unused
  int nth = 0;                    // `x#n`: n (1..5)
};

struct Expression {
  std::variant<Rate, Cron> what;
};

// "rate(5 minutes)", "cron(0/5 * * * ? *)". Errors: kValidation, "Parameter ScheduleExpression is not
// valid.".
Result<Expression> parse_expression(std::string_view text);

// The first slot strictly after `after`; nullopt when none is left (a cron whose years are all past).
// Cron slots fall on whole minutes. Rate slots are anchor + k * period for k >= 1.
std::optional<TimePoint> next_after(const Expression& e, TimePoint after, TimePoint anchor);

}  // namespace gantry::schedule
