#include "schedule/expression.h"

#include <array>
#include <charconv>
#include <span>
#include <string>
#include <vector>

namespace gantry::schedule {
namespace {

// PutRule's only message for a malformed expression: AWS never says which part is wrong.
Error invalid() { return make_error(ErrorKind::kValidation, "Parameter ScheduleExpression is not valid."); }

// The ScheduleExpression shape's max length in the EventBridge model.
constexpr std::size_t kMaxExpressionLength = 256;

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A decimal of at most `max_digits` digits (no sign), so that it can never overflow.
std::optional<int64_t> parse_decimal(std::string_view s, std::size_t max_digits) {
  if (!all_digits(s) || s.size() > max_digits) return std::nullopt;
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// How one cron field reads: its value range, its names (the first name is `min`), whether it takes
// `/` and up to which step, and whether a range may wrap around (end below start).
struct Field {
  int min;
  int max;
  std::span<const std::string_view> names;
  bool step;
  int max_step;
  bool wrap;
};

constexpr Field kMinutes{0, 59, {}, true, 59, true};
constexpr Field kHours{0, 23, {}, true, 23, true};
constexpr Field kDaysOfMonth{1, 31, {}, true, 31, true};
constexpr Field kMonths{1, 12, kMonthNames, true, 12, true};
constexpr Field kDaysOfWeek{1, 7, kDayNames, false, 7, true};
constexpr Field kYears{kMinYear, kMaxYear, {}, true, kMaxYear - kMinYear, false};

std::optional<int> parse_value(std::string_view s, const Field& f) {
  if (all_digits(s)) {
    auto v = parse_decimal(s, 4);
    if (!v || *v < f.min || *v > f.max) return std::nullopt;
    return static_cast<int>(*v);
  }
  if (s.size() != 3) return std::nullopt;
  std::string upper(s);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  for (std::size_t i = 0; i < f.names.size(); ++i) {
    if (f.names[i] == upper) return f.min + static_cast<int>(i);
  }
  return std::nullopt;
}

// One comma-separated item: `*`, `v`, `a-b`, each optionally `/step` (`v/step` runs to the field's max).
bool parse_item(std::string_view item, const Field& f, std::vector<bool>& set) {
  int step = 1;
  bool has_step = false;
  if (auto slash = item.find('/'); slash != std::string_view::npos) {
    if (!f.step) return false;
    auto s = parse_decimal(item.substr(slash + 1), 4);
    if (!s || *s < 1 || *s > f.max_step) return false;
    step = static_cast<int>(*s);
    has_step = true;
    item = item.substr(0, slash);
  }
  int lo = f.min;
  int hi = f.max;
  if (item != "*") {
    auto dash = item.find('-');
    auto first = parse_value(item.substr(0, dash), f);
    if (!first) return false;
    lo = *first;
    if (dash == std::string_view::npos) {
      hi = has_step ? f.max : lo;
    } else {
      auto last = parse_value(item.substr(dash + 1), f);
      if (!last) return false;
      hi = *last;
      if (hi < lo && !f.wrap) return false;
    }
  }
  const int span = f.max - f.min + 1;
  const int length = hi >= lo ? hi - lo : hi + span - lo;
  for (int off = 0; off <= length; off += step) {
    int v = lo + off;
    if (v > f.max) v -= span;
    set[static_cast<std::size_t>(v)] = true;
  }
  return true;
}

// A list of items into a set indexed by value (so years are indexed 0..2199).
std::optional<std::vector<bool>> parse_list(std::string_view text, const Field& f) {
  std::vector<bool> set(static_cast<std::size_t>(f.max) + 1, false);
  while (true) {
    auto comma = text.find(',');
    if (!parse_item(text.substr(0, comma), f, set)) return std::nullopt;
    if (comma == std::string_view::npos) return set;
    text = text.substr(comma + 1);
  }
}

template <std::size_t N>
bool fill(std::bitset<N>& out, std::string_view text, const Field& f, int offset = 0) {
  auto set = parse_list(text, f);
  if (!set) return false;
  for (int v = f.min; v <= f.max; ++v) {
    if ((*set)[static_cast<std::size_t>(v)]) out.set(static_cast<std::size_t>(v - offset));
  }
  return true;
}

bool parse_day_of_month(std::string_view s, Cron& c) {
  if (s == "?") {
    c.any_day_of_month = true;
  } else if (s == "L") {
    c.last_day_of_month = true;
  } else if (s == "LW") {
    c.last_weekday_of_month = true;
  } else if (s.size() > 1 && s.back() == 'W') {
    auto n = parse_decimal(s.substr(0, s.size() - 1), 2);
    if (!n || *n < 1 || *n > 31) return false;
    c.nearest_weekday_to = static_cast<int>(*n);
  } else {
    return fill(c.days_of_month, s, kDaysOfMonth);
  }
  return true;
}

bool parse_day_of_week(std::string_view s, Cron& c) {
  if (s == "?") {
    c.any_day_of_week = true;
  } else if (s == "L") {
    c.days_of_week.set(7);  // the last day of the week, every week (Quartz: "L" alone is SAT)
  } else if (auto hash = s.find('#'); hash != std::string_view::npos) {
    auto x = parse_value(s.substr(0, hash), kDaysOfWeek);
    auto n = parse_decimal(s.substr(hash + 1), 1);
    if (!x || !n || *n < 1 || *n > 5) return false;
    c.nth_weekday = *x;
    c.nth = static_cast<int>(*n);
  } else if (s.size() > 1 && s.back() == 'L') {
    auto x = parse_value(s.substr(0, s.size() - 1), kDaysOfWeek);
    if (!x) return false;
    c.last_of_month_weekday = *x;
  } else {
    return fill(c.days_of_week, s, kDaysOfWeek);
  }
  return true;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

Result<Cron> parse_cron(std::string_view inner) {
  if (inner.empty() || is_blank(inner.front()) || is_blank(inner.back())) return invalid();
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < inner.size()) {
    std::size_t j = i;
    while (j < inner.size() && !is_blank(inner[j])) ++j;
    fields.push_back(inner.substr(i, j - i));
    while (j < inner.size() && is_blank(inner[j])) ++j;
    i = j;
  }
  if (fields.size() != 6) return invalid();
  Cron c;
  if (!fill(c.minutes, fields[0], kMinutes) || !fill(c.hours, fields[1], kHours) ||
      !parse_day_of_month(fields[2], c) || !fill(c.months, fields[3], kMonths) ||
      !parse_day_of_week(fields[4], c) || !fill(c.years, fields[5], kYears, kMinYear)) {
    return invalid();
  }
  // AWS: a value in one of the two day fields needs `?` in the other; `?` in both says nothing.
  if (c.any_day_of_month == c.any_day_of_week) return invalid();
  return c;
}

Result<Rate> parse_rate(std::string_view inner) {
  auto space = inner.find(' ');
  if (space == std::string_view::npos) return invalid();
  // Nine digits keep value * 86400 seconds far from overflow.
  auto value = parse_decimal(inner.substr(0, space), 9);
  if (!value || *value < 1) return invalid();
  const std::string_view unit = inner.substr(space + 1);
  const bool one = *value == 1;
  Rate r;
  r.value = *value;
  if (unit == (one ? "minute" : "minutes")) {
    r.unit = Rate::Unit::kMinute;
  } else if (unit == (one ? "hour" : "hours")) {
    r.unit = Rate::Unit::kHour;
  } else if (unit == (one ? "day" : "days")) {
    r.unit = Rate::Unit::kDay;
  } else {
    return invalid();
  }
  return r;
}

int days_in_month(int y, int m) {
  using namespace std::chrono;
  return static_cast<int>(static_cast<unsigned>(
      year_month_day_last(year{y}, month_day_last(month{static_cast<unsigned>(m)})).day()));
}

// 1 = Sunday .. 7 = Saturday, as cron numbers weekdays.
int weekday_of(int y, int m, int d) {
  using namespace std::chrono;
  const sys_days date{year{y} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)}};
  return static_cast<int>(weekday{date}.c_encoding()) + 1;
}

// The weekday nearest day n of the month, never leaving the month (Quartz's `W`).
int nearest_weekday(int y, int m, int n, int dim) {
  const int wd = weekday_of(y, m, n);
  if (wd == 7) return n == 1 ? 3 : n - 1;    // Saturday: Friday before, or Monday the 3rd
  if (wd == 1) return n == dim ? n - 2 : n + 1;  // Sunday: Monday after, or Friday before at month end
  return n;
}

bool day_matches(const Cron& c, int y, int m, int d, int dim) {
  if (!c.any_day_of_month) {
    if (c.last_day_of_month) return d == dim;
    if (c.last_weekday_of_month) return d == nearest_weekday(y, m, dim, dim);
    if (c.nearest_weekday_to != 0) {
      return c.nearest_weekday_to <= dim && d == nearest_weekday(y, m, c.nearest_weekday_to, dim);
    }
    return c.days_of_month[static_cast<std::size_t>(d)];
  }
  const int wd = weekday_of(y, m, d);
  if (c.last_of_month_weekday != 0) return wd == c.last_of_month_weekday && d + 7 > dim;
  if (c.nth_weekday != 0) return wd == c.nth_weekday && (d - 1) / 7 + 1 == c.nth;
  return c.days_of_week[static_cast<std::size_t>(wd)];
}

// Walks years, months, days (whole days skipped by the day test), then hours and minutes, starting
// from the first whole minute after `after`: at most 230 * 366 day tests, never minute by minute.
std::optional<TimePoint> next_cron(const Cron& c, TimePoint after) {
  using namespace std::chrono;
  const auto start = floor<minutes>(after) + minutes(1);
  const auto start_day = floor<days>(start);
  const year_month_day ymd{start_day};
  const auto in_day = duration_cast<minutes>(start - start_day).count();
  int y0 = static_cast<int>(ymd.year());
  int m0 = static_cast<int>(static_cast<unsigned>(ymd.month()));
  int d0 = static_cast<int>(static_cast<unsigned>(ymd.day()));
  int h0 = static_cast<int>(in_day / 60);
  int mi0 = static_cast<int>(in_day % 60);
  if (y0 < kMinYear) y0 = kMinYear, m0 = 1, d0 = 1, h0 = 0, mi0 = 0;

  for (int y = y0; y <= kMaxYear; ++y) {
    if (!c.years[static_cast<std::size_t>(y - kMinYear)]) continue;
    const bool first_y = y == y0;
    for (int m = first_y ? m0 : 1; m <= 12; ++m) {
      if (!c.months[static_cast<std::size_t>(m)]) continue;
      const bool first_m = first_y && m == m0;
      const int dim = days_in_month(y, m);
      for (int d = first_m ? d0 : 1; d <= dim; ++d) {
        if (!day_matches(c, y, m, d, dim)) continue;
        const bool first_d = first_m && d == d0;
        for (int h = first_d ? h0 : 0; h < 24; ++h) {
          if (!c.hours[static_cast<std::size_t>(h)]) continue;
          const bool first_h = first_d && h == h0;
          for (int mi = first_h ? mi0 : 0; mi < 60; ++mi) {
            if (!c.minutes[static_cast<std::size_t>(mi)]) continue;
            const sys_days date{year{y} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)}};
            return TimePoint(date + hours(h) + minutes(mi));
          }
        }
      }
    }
  }
  return std::nullopt;
}

// anchor + k * period for the least k >= 1 past `after`; nullopt when that is beyond TimePoint's range.
std::optional<TimePoint> next_rate(const Rate& r, TimePoint after, TimePoint anchor) {
  using Ticks = TimePoint::duration;
  const int64_t per_second = std::chrono::duration_cast<Ticks>(std::chrono::seconds(1)).count();
  int64_t period = 0;
  if (__builtin_mul_overflow(r.period().count(), per_second, &period)) return std::nullopt;
  int64_t k = 1;
  if (after >= anchor) {
    int64_t diff = 0;
    if (__builtin_sub_overflow(after.time_since_epoch().count(), anchor.time_since_epoch().count(), &diff)) {
      return std::nullopt;
    }
    k = diff / period + 1;
  }
  int64_t offset = 0;
  int64_t at = 0;
  if (__builtin_mul_overflow(k, period, &offset) ||
      __builtin_add_overflow(anchor.time_since_epoch().count(), offset, &at)) {
    return std::nullopt;
  }
  return TimePoint(Ticks(at));
}

}  // namespace

std::chrono::seconds Rate::period() const {
  switch (unit) {
    case Unit::kMinute: return std::chrono::seconds(value * 60);
    case Unit::kHour: return std::chrono::seconds(value * 3600);
    case Unit::kDay: return std::chrono::seconds(value * 86400);
  }
  return std::chrono::seconds(value * 60);
}

Result<Expression> parse_expression(std::string_view text) {
  if (text.size() > kMaxExpressionLength || text.empty() || text.back() != ')') return invalid();
  if (text.starts_with("rate(")) {
    auto rate = parse_rate(text.substr(5, text.size() - 6));
    if (!rate.ok()) return rate.error();
    return Expression{*rate};
  }
  if (text.starts_with("cron(")) {
    auto cron = parse_cron(text.substr(5, text.size() - 6));
    if (!cron.ok()) return cron.error();
    return Expression{*cron};
  }
  return invalid();
}

std::optional<TimePoint> next_after(const Expression& e, TimePoint after, TimePoint anchor) {
  if (const auto* rate = std::get_if<Rate>(&e.what)) return next_rate(*rate, after, anchor);
  return next_cron(std::get<Cron>(e.what), after);
}

}  // namespace gantry::schedule
