#include "schedule/expression.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// Expected dates below were computed independently with Python's datetime/calendar (e.g. the last
// Fridays of 2026, the weekday of the 15th), not with the code under test.

namespace gantry::schedule {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint at(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  using namespace std::chrono;
  return TimePoint(sys_days{year{y} / month{m} / day{d}} + hours(h) + minutes(mi) + seconds(s));
}

std::string show(std::optional<TimePoint> t) { return t ? iso8601(*t) : std::string("nullopt"); }

TEST(ScheduleExpression, AcceptsValidExpressions) {
  const std::vector<std::string> valid = {
      "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(2 hours)", "rate(1 day)", "rate(7 days)",
      "rate(100000 minutes)",
      "cron(0/5 * * * ? *)", "cron(0 12 * * ? *)", "cron(15 10 ? * 6L 2026)", "cron(0 0 L * ? *)",
      "cron(0 8 ? * 2#1 *)", "cron(0 9 15W * ? *)", "cron(0 0 1 1 ? 2025)", "cron(0 18 ? * MON-FRI *)",
      "cron(0 18 ? * mon-fri *)", "cron(*/10 * * * ? *)", "cron(10-50/10 * * * ? *)", "cron(0 0 LW * ? *)",
      "cron(0 0 ? * L *)", "cron(0 0 1 JAN,FEB,MAR ? *)", "cron(0 22-2 * * ? *)", "cron(0  12 * * ? *)",
      "cron(0 0 ? * FRI#3 *)", "cron(0 0 ? * FRIL *)", "cron(0 0 1 * ? 2020-2030/2)", "cron(0 0 1W * ? *)",
      "cron(0 0 * * ? *)", "cron(0 0 ? * * *)", "cron(0 0 ? * SAT-SUN *)", "cron(0 0 1 JAN/3 ? *)",
      "cron(59 23 31 12 ? 2199)", "cron(0 0 1 1 ? 1970)"};
  for (const auto& text : valid) {
    auto e = parse_expression(text);
    EXPECT_TRUE(e.ok()) << text << ": " << (e.ok() ? "" : e.error().message);
  }
}

TEST(ScheduleExpression, RejectsInvalidExpressionsWithAwsMessage) {
  const std::vector<std::string> invalid = {
      "", "rate(1 minutes)", "rate(5 minute)", "rate(1 hours)", "rate(5 hour)", "rate(1 days)",
      "rate(5 day)", "rate(0 minutes)", "rate(-1 minutes)", "rate(+5 minutes)", "rate(5 seconds)",
      "rate(5 weeks)", "rate(5  minutes)", "rate( 5 minutes)", "rate(5 minutes )", "rate(5)",
      "rate(1.5 hours)", "RATE(5 minutes)", "rate(5 Minutes)", "rate 5 minutes", "rate(5 minutes",
      "rate(minutes)", "rate(1234567890 minutes)",
      "cron(0 12 * * ? *) ", " cron(0 12 * * ? *)", "cron( 0 12 * * ? *)", "cron(0 12 * * ? * )",
      "cron()", "cron(0 12 * * ? *", "xcron(0 12 * * ? *)", "cron[0 12 * * ? *]",
      // Neither, or both, day fields `?`.
      "cron(0 12 * * * *)", "cron(0 12 1 * MON *)", "cron(0 12 ? * ? *)", "cron(0 0 L * L *)",
      // Field count.
      "cron(0 12 * * ?)", "cron(0 12 * * ? * *)", "cron(*/1 * * * *)",
      // Out of range.
      "cron(60 * * * ? *)", "cron(0 24 * * ? *)", "cron(0 0 0 * ? *)", "cron(0 0 32 * ? *)",
      "cron(0 0 1 0 ? *)", "cron(0 0 1 13 ? *)", "cron(0 0 ? * 0 *)", "cron(0 0 ? * 8 *)",
      "cron(0 0 1 * ? 1969)", "cron(0 0 1 * ? 2200)", "cron(0 0 1 * ? 2030-2020)", "cron(0-60 * * * ? *)",
      // Names.
      "cron(0 0 1 FOO ? *)", "cron(0 0 ? * FUN *)", "cron(0 0 ? * MONDAY *)", "cron(0 0 1 JANUARY ? *)",
      "cron(0 0 MON * ? *)", "cron(JAN 0 1 * ? *)", "cron(0 0 1 SUN ? *)",
      // Steps.
      "cron(*/60 * * * ? *)", "cron(0/0 * * * ? *)", "cron(0 */24 * * ? *)", "cron(0 0 ? * 1/2 *)",
      "cron(0 0 1 */13 ? *)", "cron(0 0 ?/2 * ? *)", "cron(0/ * * * ? *)", "cron(/5 * * * ? *)",
      // L, W, # misuse.
      "cron(0 0 ? * 3#6 *)", "cron(0 0 ? * 3#0 *)", "cron(0 0 ? * 8#1 *)", "cron(0 0 ? * 3#1,6#3 *)",
      "cron(0 0 ? * # *)", "cron(0 0 #1 * ? *)", "cron(0 0 15W,20 * ? *)", "cron(0 0 1-15W * ? *)",
      "cron(0 0 32W * ? *)", "cron(0 0 0W * ? *)", "cron(0 0 W * ? *)", "cron(0 0 ? * 6L,2 *)",
      "cron(0 0 L,15 * ? *)", "cron(L 0 1 * ? *)", "cron(0 L 1 * ? *)", "cron(0 0 1 L ? *)",
      "cron(0 0 1 * ? L)", "cron(0 0 ? 1W * *)", "cron(0 0 ? * 2W *)", "cron(0 0 L-2 * ? *)",
      "cron(0 0 ? * 9L *)", "cron(0 0 1 * ? ?)", "cron(? 0 1 * ? *)",
      // Syntax.
      "cron(0,,5 * * * ? *)", "cron(0, * * * ? *)", "cron(1-2-3 * * * ? *)", "cron(- * * * ? *)",
      "cron(a * * * ? *)", "cron(0 0 1 * ? 20255)"};
  for (const auto& text : invalid) {
    auto e = parse_expression(text);
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_EQ(e.error().kind, ErrorKind::kValidation) << text;
    EXPECT_EQ(e.error().message, "Parameter ScheduleExpression is not valid.") << text;
  }
  EXPECT_FALSE(parse_expression("cron(0 0 1 1,2" + std::string(300, ' ') + " ? *)").ok());
}

TEST(ScheduleExpression, RateValueUnitAndPeriod) {
  struct Case {
    std::string text;
    int64_t value;
    Rate::Unit unit;
    seconds period;
  };
  const std::vector<Case> cases = {
      {"rate(1 minute)", 1, Rate::Unit::kMinute, seconds(60)},
      {"rate(5 minutes)", 5, Rate::Unit::kMinute, seconds(300)},
      {"rate(1 hour)", 1, Rate::Unit::kHour, seconds(3600)},
      {"rate(12 hours)", 12, Rate::Unit::kHour, seconds(43200)},
      {"rate(1 day)", 1, Rate::Unit::kDay, seconds(86400)},
      {"rate(3 days)", 3, Rate::Unit::kDay, seconds(259200)},
  };
  for (const auto& c : cases) {
    auto e = parse_expression(c.text);
    ASSERT_TRUE(e.ok()) << c.text;
    const auto* rate = std::get_if<Rate>(&e->what);
    ASSERT_NE(rate, nullptr) << c.text;
    EXPECT_EQ(rate->value, c.value) << c.text;
    EXPECT_EQ(rate->unit, c.unit) << c.text;
    EXPECT_EQ(rate->period(), c.period) << c.text;
  }
}

struct NextCase {
  std::string expression;
  TimePoint after;
  std::optional<TimePoint> expected;
  TimePoint anchor = at(2026, 1, 1);
};

void check(const std::vector<NextCase>& cases) {
  for (const auto& c : cases) {
    auto e = parse_expression(c.expression);
    ASSERT_TRUE(e.ok()) << c.expression;
    EXPECT_EQ(show(next_after(*e, c.after, c.anchor)), show(c.expected))
        << c.expression << " after " << iso8601(c.after);
  }
}

TEST(ScheduleExpression, NextAfterRate) {
  const TimePoint anchor = at(2026, 1, 1, 0, 0, 0);
  const TimePoint odd_anchor = at(2026, 1, 1, 12, 0, 17) + std::chrono::milliseconds(250);
  check({
      {"rate(5 minutes)", at(2026, 1, 1, 0, 7, 30), at(2026, 1, 1, 0, 10), anchor},
      {"rate(5 minutes)", at(2025, 12, 31, 23, 0), at(2026, 1, 1, 0, 5), anchor},  // before creation
      {"rate(5 minutes)", anchor, at(2026, 1, 1, 0, 5), anchor},  // the creation instant is not a slot
      {"rate(5 minutes)", at(2026, 1, 1, 0, 5), at(2026, 1, 1, 0, 10), anchor},  // strictly after
      {"rate(5 minutes)", at(2026, 1, 1, 0, 9, 59), at(2026, 1, 1, 0, 10), anchor},
      {"rate(5 minutes)", odd_anchor, odd_anchor + minutes(5), odd_anchor},
      {"rate(5 minutes)", odd_anchor + minutes(12), odd_anchor + minutes(15), odd_anchor},
      {"rate(1 hour)", at(2026, 3, 1, 10, 30), at(2026, 3, 1, 11, 0), anchor},
      {"rate(1 day)", at(2026, 3, 10, 9, 0), at(2026, 3, 11, 8, 30), at(2026, 3, 1, 8, 30)},
      {"rate(7 days)", at(2028, 2, 27), at(2028, 3, 4), at(2028, 2, 5)},  // over Feb 29: 5,12,19,26,Mar 4
  });
}

TEST(ScheduleExpression, NextAfterEveryFiveMinutes) {
  check({
      {"cron(0/5 * * * ? *)", at(2026, 5, 4, 12, 3), at(2026, 5, 4, 12, 5)},
      {"cron(0/5 * * * ? *)", at(2026, 5, 4, 12, 5), at(2026, 5, 4, 12, 10)},
      {"cron(0/5 * * * ? *)", at(2026, 5, 4, 12, 4, 59) + std::chrono::milliseconds(900),
       at(2026, 5, 4, 12, 5)},
      {"cron(0/5 * * * ? *)", at(2026, 12, 31, 23, 58), at(2027, 1, 1, 0, 0)},
      {"cron(*/10 * * * ? *)", at(2026, 5, 4, 12, 50, 1), at(2026, 5, 4, 13, 0)},
      {"cron(10-50/10 * * * ? *)", at(2026, 5, 4, 12, 50), at(2026, 5, 4, 13, 10)},
      {"cron(1/10 * * * ? *)", at(2026, 5, 4, 12, 1), at(2026, 5, 4, 12, 11)},
  });
}

TEST(ScheduleExpression, NextAfterDaily) {
  check({
      {"cron(0 12 * * ? *)", at(2026, 3, 10, 11, 59), at(2026, 3, 10, 12, 0)},
      {"cron(0 12 * * ? *)", at(2026, 3, 10, 12, 0), at(2026, 3, 11, 12, 0)},
      {"cron(0 12 * * ? *)", at(2026, 2, 28, 12, 30), at(2026, 3, 1, 12, 0)},
      {"cron(0 12 * * ? *)", at(2028, 2, 28, 12, 30), at(2028, 2, 29, 12, 0)},
      {"cron(0 22-2 * * ? *)", at(2026, 11, 28, 2, 0), at(2026, 11, 28, 22, 0)},  // wrapping hours
      {"cron(0 22-2 * * ? *)", at(2026, 11, 28, 23, 0), at(2026, 11, 29, 0, 0)},
  });
}

TEST(ScheduleExpression, NextAfterLastFridayOf2026) {
  // Last Fridays of 2026 (calendar.monthcalendar): 30 27 27 24 29 26 31 28 25 30 27 25.
  const unsigned last_fridays[] = {30, 27, 27, 24, 29, 26, 31, 28, 25, 30, 27, 25};
  auto e = parse_expression("cron(15 10 ? * 6L 2026)");
  ASSERT_TRUE(e.ok());
  TimePoint t = at(2025, 6, 1);
  for (unsigned m = 1; m <= 12; ++m) {
    auto next = next_after(*e, t, t);
    ASSERT_TRUE(next) << m;
    EXPECT_EQ(iso8601(*next), iso8601(at(2026, m, last_fridays[m - 1], 10, 15))) << m;
    t = *next;
  }
  EXPECT_FALSE(next_after(*e, t, t));  // 2026 is over
}

TEST(ScheduleExpression, NextAfterLastDayOfMonth) {
  check({
      {"cron(0 0 L * ? *)", at(2028, 2, 1), at(2028, 2, 29)},  // leap year
      {"cron(0 0 L * ? *)", at(2027, 2, 1), at(2027, 2, 28)},
      {"cron(0 0 L * ? *)", at(2028, 2, 29), at(2028, 3, 31)},
      {"cron(0 0 L * ? *)", at(2026, 4, 30, 0, 1), at(2026, 5, 31)},
      {"cron(0 0 L 2 ? *)", at(2027, 3, 1), at(2028, 2, 29)},
      {"cron(30 0 29 2 ? *)", at(2025, 3, 1), at(2028, 2, 29, 0, 30)},
      // LW: 2026-05-31 is a Sunday -> Friday 29th; 2026-10-31 is a Saturday -> Friday 30th.
      {"cron(0 0 LW * ? *)", at(2026, 5, 1), at(2026, 5, 29)},
      {"cron(0 0 LW * ? *)", at(2026, 10, 1), at(2026, 10, 30)},
  });
}

TEST(ScheduleExpression, NextAfterNthWeekday) {
  check({
      // First Mondays of 2026: Jan 5, Feb 2, Mar 2.
      {"cron(0 8 ? * 2#1 *)", at(2026, 1, 1), at(2026, 1, 5, 8, 0)},
      {"cron(0 8 ? * 2#1 *)", at(2026, 1, 5, 8, 0), at(2026, 2, 2, 8, 0)},
      {"cron(0 8 ? * MON#1 *)", at(2026, 2, 2, 8, 0), at(2026, 3, 2, 8, 0)},
      // Fifth Tuesday: 2026 has one in Mar (31), Jun (30), Sep (29), Dec (29).
      {"cron(0 12 ? * 3#5 *)", at(2026, 4, 1), at(2026, 6, 30, 12, 0)},
      {"cron(0 12 ? * 3#5 *)", at(2026, 6, 30, 12, 0), at(2026, 9, 29, 12, 0)},
  });
}

TEST(ScheduleExpression, NextAfterNearestWeekday) {
  check({
      // 2026-08-15 is a Saturday -> Friday 14th; 2026-02-15 is a Sunday -> Monday 16th.
      {"cron(0 9 15W * ? *)", at(2026, 8, 1), at(2026, 8, 14, 9, 0)},
      {"cron(0 9 15W * ? *)", at(2026, 2, 1), at(2026, 2, 16, 9, 0)},
      {"cron(0 9 15W * ? *)", at(2026, 2, 15), at(2026, 2, 16, 9, 0)},
      {"cron(0 9 15W * ? *)", at(2026, 8, 14, 9, 0), at(2026, 9, 15, 9, 0)},  // Tuesday
      // 2026-08-01 is a Saturday: W does not leave the month -> Monday 3rd.
      {"cron(0 9 1W * ? *)", at(2026, 7, 31), at(2026, 8, 3, 9, 0)},
      // No 30th in February: 30W skips it.
      {"cron(0 9 30W * ? *)", at(2026, 2, 1), at(2026, 3, 30, 9, 0)},
  });
}

TEST(ScheduleExpression, NextAfterWeekdaysAndYears) {
  check({
      // 2026-11-27 Friday, 28 Saturday, 30 Monday, 25 Wednesday.
      {"cron(0 18 ? * MON-FRI *)", at(2026, 11, 27, 18, 0), at(2026, 11, 30, 18, 0)},
      {"cron(0 18 ? * MON-FRI *)", at(2026, 11, 28, 9, 0), at(2026, 11, 30, 18, 0)},
      {"cron(0 18 ? * MON-FRI *)", at(2026, 11, 25, 17, 59), at(2026, 11, 25, 18, 0)},
      {"cron(0 18 ? * FRI-MON *)", at(2026, 11, 25, 18, 0), at(2026, 11, 27, 18, 0)},  // wrapping
      {"cron(0 0 ? * L *)", at(2026, 11, 26), at(2026, 11, 28)},  // L alone: Saturday
      {"cron(0 0 1 1 ? 2025)", at(2024, 6, 1), at(2025, 1, 1)},
      {"cron(0 0 1 1 ? 2025)", at(2025, 1, 1), std::nullopt},
      {"cron(0 0 1 1 ? 2025)", at(2026, 3, 1), std::nullopt},
      {"cron(0 0 1 1 ? *)", at(1960, 5, 1), at(1970, 1, 1)},
      {"cron(59 23 31 12 ? 2199)", at(2199, 12, 31, 23, 58), at(2199, 12, 31, 23, 59)},
      {"cron(59 23 31 12 ? 2199)", at(2199, 12, 31, 23, 59), std::nullopt},
      {"cron(0 0 1 * ? *)", at(2199, 12, 1), std::nullopt},
  });
}

}  // namespace
}  // namespace gantry::schedule
