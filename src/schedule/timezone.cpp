#include "schedule/timezone.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>
#include <utility>

namespace gantry::schedule {

namespace detail {

struct ZoneData {
  // The POSIX TZ string of a TZif footer, e.g. "EST5EDT,M3.2.0,M11.1.0": a standard offset and, with
  // daylight saving time, a second offset and the two yearly transitions.
  struct Rule {
    // The day of a yearly transition and its local time of day.
    struct When {
      enum class Kind { kJulian, kZeroBased, kMonthWeekDay } kind = Kind::kMonthWeekDay;
      int month = 0;  // kMonthWeekDay: Mm.w.d
      int week = 0;
      int day = 0;      // kMonthWeekDay: weekday 0 (Sunday)..6; kJulian: Jn, 1..365; kZeroBased: n, 0..365
      int time = 7200;  // seconds after local midnight; may be negative or past 24 h (RFC 8536)
    };
    int std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    int dst_offset = 0;
    When start;  // into daylight time, at a local standard time
    When end;    // back to standard time, at a local daylight time
  };

  // Instants (seconds since the epoch, ascending) at which the offset changes, and the offset from
  // each on. Entries of the file that change no offset (only the abbreviation or isdst) are dropped.
  std::vector<int64_t> times;
  std::vector<int> offsets;
  int initial_offset = 0;  // before times[0]; always, with neither transitions nor a rule
  // From rule_from on (the file's last listed transition; always when it lists none), the footer.
  std::optional<Rule> rule;
  int64_t rule_from = std::numeric_limits<int64_t>::min();
  int min_offset = 0;
  int max_offset = 0;
};

}  // namespace detail

namespace {

using detail::ZoneData;
using PosixRule = ZoneData::Rule;

constexpr int64_t kMinSeconds = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max();
constexpr int kSecondsPerDay = 86400;

// The API model's length limit for ScheduleExpressionTimezone.
constexpr std::size_t kMaxZoneNameLength = 50;
// Real TZif files are a few kilobytes; anything much larger is not one.
constexpr std::size_t kMaxTzifBytes = 1 << 20;
// RFC 8536 keeps offsets within -25 h .. +26 h.
constexpr int64_t kMaxAbsOffset = 26 * 3600;

Error invalid_zone(std::string_view name) {
  return make_error(ErrorKind::kValidation, "Invalid timezone: " + std::string(name));
}

Error invalid_at(std::string_view text) {
  return make_error(ErrorKind::kValidation, "Invalid Schedule Expression " + std::string(text) + ".");
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

bool is_leap(int y) { return std::chrono::year{y}.is_leap(); }

int days_in_month(int y, int m) {
  using namespace std::chrono;
  return static_cast<int>(static_cast<unsigned>(
      year_month_day_last(year{y}, month_day_last(month{static_cast<unsigned>(m)})).day()));
}

int64_t days_from_civil(int y, int m, int d) {
  using namespace std::chrono;
  const sys_days date{year{y} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)}};
  return date.time_since_epoch().count();
}

// Civil date and time of `local` seconds since 1970-01-01T00:00 (of whichever clock).
TimeZone::Civil civil_from_seconds(int64_t local) {
  using namespace std::chrono;
  const int64_t day_number = floor_div(local, kSecondsPerDay);
  const int64_t in_day = local - day_number * kSecondsPerDay;
  const year_month_day ymd{sys_days{days{day_number}}};
  TimeZone::Civil c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  c.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  c.hour = static_cast<int>(in_day / 3600);
  c.minute = static_cast<int>(in_day / 60 % 60);
  c.second = static_cast<int>(in_day % 60);
  return c;
}

// Years a TimePoint (nanoseconds in an int64) can hold whole.
constexpr int kMinCivilYear = 1678;
constexpr int kMaxCivilYear = 2261;

// `c` as seconds since 1970-01-01T00:00 on its own clock; nullopt for a field out of range.
std::optional<int64_t> seconds_of_civil(const TimeZone::Civil& c) {
  if (c.year < kMinCivilYear || c.year > kMaxCivilYear || c.month < 1 || c.month > 12 || c.day < 1 ||
      c.day > days_in_month(c.year, c.month) || c.hour < 0 || c.hour > 23 || c.minute < 0 || c.minute > 59 ||
      c.second < 0 || c.second > 59) {
    return std::nullopt;
  }
  return days_from_civil(c.year, c.month, c.day) * kSecondsPerDay + c.hour * 3600 + c.minute * 60 + c.second;
}

constexpr int64_t seconds_of(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

// Seconds since the epoch a TimePoint can hold.
constexpr int64_t kMinTimePointSeconds = seconds_of(TimePoint::min()) + 1;
constexpr int64_t kMaxTimePointSeconds = seconds_of(TimePoint::max()) - 1;

TimePoint time_point_of(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

// ---- POSIX TZ strings -------------------------------------------------------------------------------

class TzStringParser {
 public:
  explicit TzStringParser(std::string_view s) : s_(s) {}

  std::optional<PosixRule> parse() {
    PosixRule r;
    if (!name()) return std::nullopt;
    auto std_offset = hms(24);
    if (!std_offset) return std::nullopt;
    r.std_offset = -*std_offset;  // POSIX counts west of Greenwich as positive
    if (s_.empty()) return r;
    if (!name()) return std::nullopt;
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (!s_.empty() && s_.front() != ',') {
      auto dst_offset = hms(24);
      if (!dst_offset) return std::nullopt;
      r.dst_offset = -*dst_offset;
    }
    if (s_.empty()) {
      // POSIX leaves the rule to the implementation; TZif footers always spell it. Use the US rule.
      r.start = {PosixRule::When::Kind::kMonthWeekDay, 3, 2, 0, 7200};
      r.end = {PosixRule::When::Kind::kMonthWeekDay, 11, 1, 0, 7200};
      return r;
    }
    if (!eat(',') || !when(r.start) || !eat(',') || !when(r.end) || !s_.empty()) return std::nullopt;
    return r;
  }

 private:
  bool eat(char c) {
    if (s_.empty() || s_.front() != c) return false;
    s_.remove_prefix(1);
    return true;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

  // An abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'.
  bool name() {
    std::size_t n = 0;
    if (eat('<')) {
      while (n < s_.size() && (is_alpha(s_[n]) || is_digit(s_[n]) || s_[n] == '+' || s_[n] == '-')) ++n;
      if (n < 3 || n >= s_.size() || s_[n] != '>') return false;
      s_.remove_prefix(n + 1);
      return true;
    }
    while (n < s_.size() && is_alpha(s_[n])) ++n;
    if (n < 3) return false;
    s_.remove_prefix(n);
    return true;
  }

  std::optional<int> number(int max_digits) {
    int n = 0;
    int v = 0;
    while (n < max_digits && !s_.empty() && is_digit(s_.front())) {
      v = v * 10 + (s_.front() - '0');
      s_.remove_prefix(1);
      ++n;
    }
    if (n == 0) return std::nullopt;
    return v;
  }

  // [+-]h[h[h]][:mm[:ss]] in seconds, hours at most `max_hours`.
  std::optional<int> hms(int max_hours) {
    int sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    auto h = number(3);
    if (!h || *h > max_hours) return std::nullopt;
    int total = *h * 3600;
    if (eat(':')) {
      auto m = number(2);
      if (!m || *m > 59) return std::nullopt;
      total += *m * 60;
      if (eat(':')) {
        auto sec = number(2);
        if (!sec || *sec > 59) return std::nullopt;
        total += *sec;
      }
    }
    return sign * total;
  }

  bool when(PosixRule::When& w) {
    if (eat('J')) {
      auto n = number(3);
      if (!n || *n < 1 || *n > 365) return false;
      w.kind = PosixRule::When::Kind::kJulian;
      w.day = *n;
    } else if (eat('M')) {
      auto m = number(2);
      if (!m || *m < 1 || *m > 12 || !eat('.')) return false;
      auto wk = number(1);
      if (!wk || *wk < 1 || *wk > 5 || !eat('.')) return false;
      auto d = number(1);
      if (!d || *d > 6) return false;
      w.kind = PosixRule::When::Kind::kMonthWeekDay;
      w.month = *m;
      w.week = *wk;
      w.day = *d;
    } else {
      auto n = number(3);
      if (!n || *n > 365) return false;
      w.kind = PosixRule::When::Kind::kZeroBased;
      w.day = *n;
    }
    w.time = 7200;
    if (eat('/')) {
      auto t = hms(167);
      if (!t) return false;
      w.time = *t;
    }
    return true;
  }

  std::string_view s_;
};

// The day (days since the epoch) of a yearly transition in year `y`.
int64_t transition_day(const PosixRule::When& w, int y) {
  switch (w.kind) {
    case PosixRule::When::Kind::kJulian:
      // Jn counts 1..365 and never counts February 29th.
      return days_from_civil(y, 1, 1) + (w.day - 1) + (is_leap(y) && w.day >= 60 ? 1 : 0);
    case PosixRule::When::Kind::kZeroBased:
      return days_from_civil(y, 1, 1) + w.day;
    case PosixRule::When::Kind::kMonthWeekDay:
      break;
  }
  const int64_t first = days_from_civil(y, w.month, 1);
  // 1970-01-01 was a Thursday (4).
  const int first_weekday = static_cast<int>(((first % 7) + 7 + 4) % 7);
  int64_t d = first + (w.day - first_weekday + 7) % 7 + 7 * static_cast<int64_t>(w.week - 1);
  const int64_t after_month = first + days_in_month(y, w.month);
  while (d >= after_month) d -= 7;  // week 5 is "the last such weekday"
  return d;
}

// The stretch of one offset around `s` under the rule alone.
TimeZone::Period rule_period(const PosixRule& r, int64_t s) {
  if (!r.has_dst) return {kMinSeconds, kMaxSeconds, r.std_offset};
  // Keep the year arithmetic within std::chrono::year (about +-17,000 years here).
  constexpr int64_t kLimit = int64_t{1} << 39;
  const int64_t unclamped = s;
  s = std::clamp(s, -kLimit, kLimit);
  const int y = civil_from_seconds(s + r.std_offset).year;
  // Transition times may lie up to a week outside their year (times up to 167 h), so two years either
  // side always hold one transition at or before `s` and one after it.
  std::array<std::pair<int64_t, int>, 10> at{};
  std::size_t n = 0;
  for (int yy = y - 2; yy <= y + 2; ++yy) {
    at[n++] = {transition_day(r.start, yy) * kSecondsPerDay + r.start.time - r.std_offset, r.dst_offset};
    at[n++] = {transition_day(r.end, yy) * kSecondsPerDay + r.end.time - r.dst_offset, r.std_offset};
  }
  // Stable: at equal instants the later year's transition wins (DST all year round ends one year's
  // period exactly where the next begins).
  std::stable_sort(at.begin(), at.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::size_t k = 0;
  while (k + 1 < n && at[k + 1].first <= s) ++k;
  TimeZone::Period p{at[k].first, k + 1 < n ? at[k + 1].first : kMaxSeconds, at[k].second};
  // Beyond the limit the period stretches to the end of time, so it always holds the instant asked.
  if (unclamped > kLimit) p.end = kMaxSeconds;
  if (unclamped < -kLimit) p.begin = kMinSeconds;
  return p;
}

// ---- TZif -------------------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  std::size_t remaining() const { return b_.size(); }
  std::optional<std::string_view> bytes(std::size_t n) {
    if (n > b_.size()) return std::nullopt;
    auto out = b_.substr(0, n);
    b_.remove_prefix(n);
    return out;
  }
  // A big-endian two's-complement integer of 4 or 8 bytes.
  std::optional<int64_t> integer(std::size_t n) {
    auto b = bytes(n);
    if (!b) return std::nullopt;
    uint64_t v = 0;
    for (char c : *b) v = (v << 8) | static_cast<unsigned char>(c);
    if (n == 4) return static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v)));
    return static_cast<int64_t>(v);
  }
  std::optional<unsigned> byte() {
    auto b = bytes(1);
    if (!b) return std::nullopt;
    return static_cast<unsigned char>((*b)[0]);
  }

 private:
  std::string_view b_;
};

struct Header {
  char version = 0;
  uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  uint64_t block_size(uint64_t time_size) const {
    return timecnt * time_size + timecnt + typecnt * 6 + charcnt + leapcnt * (time_size + 4) + isstdcnt +
           isutcnt;
  }
};

std::optional<Header> read_header(Reader& r) {
  auto magic = r.bytes(4);
  auto version = r.bytes(1);
  if (!magic || *magic != "TZif" || !version) return std::nullopt;
  Header h;
  h.version = (*version)[0];
  if (h.version != '\0' && h.version != '2' && h.version != '3' && h.version != '4') return std::nullopt;
  if (!r.bytes(15)) return std::nullopt;
  std::array<uint64_t*, 6> counts = {&h.isutcnt, &h.isstdcnt, &h.leapcnt, &h.timecnt, &h.typecnt, &h.charcnt};
  for (uint64_t* c : counts) {
    auto v = r.integer(4);
    if (!v || *v < 0) return std::nullopt;
    *c = static_cast<uint64_t>(*v);
  }
  // RFC 8536: at least one local time type and one designation byte; the indicator counts are 0 or
  // typecnt.
  if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0 || (h.isutcnt != 0 && h.isutcnt != h.typecnt) ||
      (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)) {
    return std::nullopt;
  }
  // Leap-second files ("right/") count TAI-like seconds, not UTC ones.
  if (h.leapcnt != 0) return std::nullopt;
  // Never size a table beyond the bytes left (the 32-bit block is the smaller).
  if (h.block_size(4) > r.remaining()) return std::nullopt;
  return h;
}

// Reads one data block (`time_size` 4 for version 1, 8 after) into `d`'s table.
bool read_block(Reader& r, const Header& h, std::size_t time_size, ZoneData& d) {
  std::vector<int64_t> times(h.timecnt);
  for (auto& t : times) {
    auto v = r.integer(time_size);
    if (!v) return false;
    t = *v;
  }
  for (std::size_t i = 1; i < times.size(); ++i) {
    if (times[i] <= times[i - 1]) return false;
  }
  std::vector<unsigned> index(h.timecnt);
  for (auto& i : index) {
    auto v = r.byte();
    if (!v || *v >= h.typecnt) return false;
    i = *v;
  }
  std::vector<int> utoff(h.typecnt);
  for (auto& off : utoff) {
    auto v = r.integer(4);
    auto isdst = r.byte();
    auto desig = r.byte();
    if (!v || !isdst || !desig || *isdst > 1 || *desig >= h.charcnt) return false;
    if (*v < -kMaxAbsOffset || *v > kMaxAbsOffset) return false;
    off = static_cast<int>(*v);
  }
  if (!r.bytes(h.charcnt)) return false;
  for (uint64_t i = 0; i < h.isstdcnt + h.isutcnt; ++i) {
    auto v = r.byte();
    if (!v || *v > 1) return false;
  }
  d.initial_offset = utoff[0];
  int current = d.initial_offset;
  for (std::size_t i = 0; i < times.size(); ++i) {
    const int off = utoff[index[i]];
    if (off == current) continue;
    d.times.push_back(times[i]);
    d.offsets.push_back(off);
    current = off;
  }
  d.rule_from = times.empty() ? kMinSeconds : times.back();
  return true;
}

void set_offset_range(ZoneData& d) {
  d.min_offset = d.max_offset = d.initial_offset;
  auto widen = [&d](int off) {
    d.min_offset = std::min(d.min_offset, off);
    d.max_offset = std::max(d.max_offset, off);
  };
  for (int off : d.offsets) widen(off);
  if (d.rule) {
    widen(d.rule->std_offset);
    if (d.rule->has_dst) widen(d.rule->dst_offset);
  }
}

// ---- names ------------------------------------------------------------------------------------------

bool valid_zone_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxZoneNameLength || name.front() == '/') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                    c == '_' || c == '+' || c == '-';
    if (!ok) return false;
  }
  std::string_view rest = name;
  bool first = true;
  while (true) {
    const auto slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    if (first && (part == "posix" || part == "right")) return false;
    first = false;
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return name != "localtime" && name != "posixrules";
}

// ---- cron in a zone ---------------------------------------------------------------------------------

// The next cron slot after `after` in `zone`: walks the zone's stretches of constant offset in time
// order; in each, the local wall clock runs steadily, so the UTC walker of expression.cpp finds the
// first matching wall time, which fires unless it lies beyond the stretch (a later stretch takes over,
// and wall times skipped by a forward jump never belong to any) or repeats a wall time that an earlier
// instant already showed (the second pass through a fall-back hour).
std::optional<TimePoint> next_cron_in_zone(const Expression& e, const TimeZone& zone, TimePoint after) {
  using namespace std::chrono;
  // No cron slot lies before 1970; starting from 1969 keeps the wall arithmetic below in range.
  const TimePoint earliest{sys_days{year{kMinYear - 1} / January / 1}};
  TimePoint lo = std::max(after, earliest);  // exclusive
  TimeZone::Period p = zone.period_at(seconds_of(lo));
  // The walker's last answer: the first matching wall time after `searched_from` (none when nullopt).
  // A later search from a wall time not below searched_from and below that answer has the same answer,
  // so a far-off slot is walked to once, not once per stretch on the way.
  std::optional<TimePoint> searched_from;
  std::optional<TimePoint> found;
  while (true) {
    const seconds offset{p.offset};
    const TimePoint from = lo + offset;
    if (!searched_from || from < *searched_from || (found && *found <= from)) {
      found = next_after(e, from, lo);
      searched_from = from;
    }
    if (!found) return std::nullopt;
    const TimePoint wall = *found;
    const TimePoint candidate = wall - offset;
    if (seconds_of(candidate) < p.end) {
      const auto all = zone.from_local(civil_from_seconds(seconds_of(wall)));
      if (!all.empty() && all.front() == candidate) return candidate;
      lo = candidate;  // a repeated wall time: it ran at its first occurrence
      continue;
    }
    if (p.end >= kMaxTimePointSeconds) return std::nullopt;
    // Every instant from p.end on: the walker starts at the first whole minute after lo + offset.
    lo = time_point_of(p.end) - TimePoint::duration(1);
    p = zone.period_at(p.end);
  }
}

}  // namespace

// ---- TimeZone ---------------------------------------------------------------------------------------

TimeZone::TimeZone(std::string name, std::shared_ptr<const ZoneData> data)
    : name_(std::move(name)), data_(std::move(data)) {}

Result<TimeZone> TimeZone::load(std::string_view name, const std::string& zoneinfo_dir) {
  if (!valid_zone_name(name)) return invalid_zone(name);
  const std::filesystem::path path = std::filesystem::path(zoneinfo_dir) / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || ec) return invalid_zone(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid_zone(name);
  std::string bytes(kMaxTzifBytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const auto got = static_cast<std::size_t>(in.gcount());
  if (got > kMaxTzifBytes) return invalid_zone(name);
  bytes.resize(got);
  return from_tzif(std::string(name), bytes);
}

Result<TimeZone> TimeZone::from_tzif(std::string name, std::string_view bytes) {
  if (bytes.size() > kMaxTzifBytes) return invalid_zone(name);
  Reader r(bytes);
  auto h1 = read_header(r);
  if (!h1) return invalid_zone(name);
  auto data = std::make_shared<ZoneData>();
  if (h1->version == '\0') {
    if (!read_block(r, *h1, 4, *data)) return invalid_zone(name);
  } else {
    // Version 2+: skip the 32-bit block; the second header describes the 64-bit one.
    if (!r.bytes(h1->block_size(4))) return invalid_zone(name);
    auto h2 = read_header(r);
    if (!h2 || !read_block(r, *h2, 8, *data)) return invalid_zone(name);
    // The footer: a newline, a POSIX TZ string (possibly empty), a newline.
    auto footer = r.bytes(r.remaining());
    if (!footer || footer->size() < 2 || footer->front() != '\n' || footer->back() != '\n') {
      return invalid_zone(name);
    }
    const std::string_view tz = footer->substr(1, footer->size() - 2);
    if (tz.find('\n') != std::string_view::npos) return invalid_zone(name);
    if (!tz.empty()) {
      data->rule = TzStringParser(tz).parse();
      if (!data->rule) return invalid_zone(name);
      const auto limit = static_cast<int>(kMaxAbsOffset);
      if (std::abs(data->rule->std_offset) > limit || std::abs(data->rule->dst_offset) > limit) {
        return invalid_zone(name);
      }
    }
  }
  set_offset_range(*data);
  return TimeZone(std::move(name), std::move(data));
}

TimeZone TimeZone::utc() {
  static const std::shared_ptr<const ZoneData> data = std::make_shared<const ZoneData>();
  return TimeZone("UTC", data);
}

TimeZone::Period TimeZone::period_at(int64_t s) const {
  const ZoneData& d = *data_;
  if (d.rule && s >= d.rule_from) {
    Period p = rule_period(*d.rule, s);
    p.begin = std::max(p.begin, d.rule_from);
    return p;
  }
  const int64_t table_end = d.rule ? d.rule_from : kMaxSeconds;
  const auto it = std::upper_bound(d.times.begin(), d.times.end(), s);
  if (it == d.times.begin())
    return {kMinSeconds, d.times.empty() ? table_end : d.times.front(), d.initial_offset};
  const auto i = static_cast<std::size_t>(it - d.times.begin() - 1);
  const int64_t end = i + 1 < d.times.size() ? d.times[i + 1] : table_end;
  return {d.times[i], end, d.offsets[i]};
}

int TimeZone::offset_at(TimePoint t) const { return period_at(seconds_of(t)).offset; }

TimeZone::Civil TimeZone::to_local(TimePoint t) const {
  const int64_t s = seconds_of(t);
  return civil_from_seconds(s + period_at(s).offset);
}

std::vector<int64_t> TimeZone::instants_of_wall(int64_t wall) const {
  // An instant t shows `wall` when t + offset(t) == wall, so t lies within these bounds.
  const int64_t lo = wall - data_->max_offset;
  const int64_t hi = wall - data_->min_offset;
  std::vector<int64_t> out;
  int64_t s = lo;
  while (true) {
    const Period p = period_at(s);
    const int64_t t = wall - p.offset;
    if (t >= p.begin && t < p.end && (out.empty() || out.back() != t)) out.push_back(t);
    if (p.end > hi || p.end <= s) break;
    s = p.end;
  }
  return out;
}

std::vector<TimePoint> TimeZone::from_local(const Civil& c) const {
  std::vector<TimePoint> out;
  const auto wall = seconds_of_civil(c);
  if (!wall) return out;
  for (int64_t t : instants_of_wall(*wall)) {
    if (t >= kMinTimePointSeconds && t <= kMaxTimePointSeconds) out.push_back(time_point_of(t));
  }
  return out;
}

std::optional<TimePoint> TimeZone::resolve_local(const Civil& c) const {
  const auto wall = seconds_of_civil(c);
  if (!wall) return std::nullopt;
  std::optional<int64_t> t;
  const auto all = instants_of_wall(*wall);
  if (!all.empty()) {
    t = all.front();
  } else {
    // A gap: some stretch ends before `wall` comes round on its clock and the next starts after it.
    // Take the earlier stretch's offset, as if its clock had run on.
    const int64_t hi = *wall - data_->min_offset;
    Period prev = period_at(*wall - data_->max_offset);
    while (!t && prev.end <= hi) {
      const Period next = period_at(prev.end);
      if (next.end <= prev.end) break;
      if (*wall - prev.offset >= prev.end && *wall - next.offset < next.begin) t = *wall - prev.offset;
      prev = next;
    }
  }
  if (!t || *t < kMinTimePointSeconds || *t > kMaxTimePointSeconds) return std::nullopt;
  return time_point_of(*t);
}

// ---- schedules --------------------------------------------------------------------------------------

Result<TimeZone::Civil> parse_at(std::string_view text) {
  // at(yyyy-mm-ddThh:mm:ss)
  constexpr std::string_view kShape = "at(dddd-dd-ddTdd:dd:dd)";
  if (text.size() != kShape.size()) return invalid_at(text);
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool ok = kShape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == kShape[i];
    if (!ok) return invalid_at(text);
  }
  auto field = [text](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  TimeZone::Civil c;
  c.year = field(3, 4);
  c.month = field(8, 2);
  c.day = field(11, 2);
  c.hour = field(14, 2);
  c.minute = field(17, 2);
  c.second = field(20, 2);
  if (c.year < kMinYear || c.year > kMaxYear || c.month < 1 || c.month > 12 || c.day < 1 ||
      c.day > days_in_month(c.year, c.month) || c.hour > 23 || c.minute > 59 || c.second > 59) {
    return invalid_at(text);
  }
  return c;
}

std::optional<TimePoint> next_in_zone(const Expression& e, const TimeZone& zone, TimePoint after,
                                      TimePoint anchor) {
  if (std::holds_alternative<Rate>(e.what)) return next_after(e, after, anchor);
  return next_cron_in_zone(e, zone, after);
}

std::optional<TimePoint> next_in_zone(const At& at, const TimeZone& zone, TimePoint after) {
  const auto t = zone.resolve_local(at.when);
  if (!t || *t <= after) return std::nullopt;
  return t;
}

}  // namespace gantry::schedule
