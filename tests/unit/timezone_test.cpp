#include "schedule/timezone.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

// Expected instants below are hand-written UTC timestamps worked out from each zone's published rules,
// not produced by the code under test:
// - America/New_York: DST from the second Sunday of March 02:00 EST to the first Sunday of November
//   02:00 EDT (2027: March 14 and November 7; 2100: March 14 and November 7).
// - Europe/Berlin: CEST from the last Sunday of March to the last Sunday of October, 01:00 UTC
//   (2027: March 28 and October 31).
// - Australia/Sydney: AEDT from the first Sunday of October 02:00 AEST to the first Sunday of April
//   03:00 AEDT (2027: October 3 and April 4).
// - Australia/Lord_Howe: +10:30, and +11:00 in summer (a 30-minute shift) at 02:00 local, same Sundays.
// - Asia/Kolkata: +05:30, no DST.
// Weekdays and dates were cross-checked with Python's datetime/zoneinfo.

namespace gantry::schedule {
namespace {

using Civil = TimeZone::Civil;

constexpr int kHour = 3600;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  using namespace std::chrono;
  return TimePoint(sys_days{year{y} / month{m} / day{d}} + hours(h) + minutes(mi) + seconds(s));
}

std::string show(std::optional<TimePoint> t) { return t ? iso8601(*t) : std::string("nullopt"); }

std::string show(const Civil& c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
                c.second);
  return buf;
}

std::string show(const std::vector<TimePoint>& v) {
  std::string out = "[";
  for (const auto& t : v) out += (out.size() > 1 ? ", " : "") + iso8601(t);
  return out + "]";
}

int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool have_zoneinfo() { return std::filesystem::exists("/usr/share/zoneinfo/America/New_York"); }

#define REQUIRE_ZONEINFO() \
  if (!have_zoneinfo()) GTEST_SKIP() << "no /usr/share/zoneinfo on this host"

TimeZone zone(const std::string& name) {
  if (name == "UTC") return TimeZone::utc();
  auto z = TimeZone::load(name);
  EXPECT_TRUE(z.ok()) << name << ": " << (z.ok() ? "" : z.error().message);
  return z.ok() ? *z : TimeZone::utc();
}

Expression expr(const std::string& text) {
  auto e = parse_expression(text);
  EXPECT_TRUE(e.ok()) << text;
  return e.ok() ? *e : Expression{Rate{}};
}

// ---- offsets and local times ------------------------------------------------------------------------

TEST(TimeZone, OffsetAndLocalTimeAtInstants) {
  REQUIRE_ZONEINFO();
  struct Case {
    const char* zone;
    TimePoint t;
    int offset;
    Civil local;
  };
  const std::vector<Case> cases = {
      // New York 2027: spring forward at 07:00Z, fall back at 06:00Z.
      {"America/New_York", utc(2027, 3, 14, 6, 59, 59), -5 * kHour, {2027, 3, 14, 1, 59, 59}},
      {"America/New_York", utc(2027, 3, 14, 7), -4 * kHour, {2027, 3, 14, 3, 0, 0}},
      {"America/New_York", utc(2027, 11, 7, 5, 59, 59), -4 * kHour, {2027, 11, 7, 1, 59, 59}},
      {"America/New_York", utc(2027, 11, 7, 6), -5 * kHour, {2027, 11, 7, 1, 0, 0}},
      {"America/New_York", utc(1970, 1, 1), -5 * kHour, {1969, 12, 31, 19, 0, 0}},
      // Berlin 2027: both changes at 01:00Z.
      {"Europe/Berlin", utc(2027, 3, 28, 0, 59, 59), 1 * kHour, {2027, 3, 28, 1, 59, 59}},
      {"Europe/Berlin", utc(2027, 3, 28, 1), 2 * kHour, {2027, 3, 28, 3, 0, 0}},
      {"Europe/Berlin", utc(2027, 10, 31, 0, 59, 59), 2 * kHour, {2027, 10, 31, 2, 59, 59}},
      {"Europe/Berlin", utc(2027, 10, 31, 1), 1 * kHour, {2027, 10, 31, 2, 0, 0}},
      // Sydney: summer in January; DST ends April 4 03:00 AEDT, starts October 3 02:00 AEST.
      {"Australia/Sydney", utc(2027, 1, 15), 11 * kHour, {2027, 1, 15, 11, 0, 0}},
      {"Australia/Sydney", utc(2027, 4, 3, 15, 59, 59), 11 * kHour, {2027, 4, 4, 2, 59, 59}},
      {"Australia/Sydney", utc(2027, 4, 3, 16), 10 * kHour, {2027, 4, 4, 2, 0, 0}},
      {"Australia/Sydney", utc(2027, 10, 2, 15, 59, 59), 10 * kHour, {2027, 10, 3, 1, 59, 59}},
      {"Australia/Sydney", utc(2027, 10, 2, 16), 11 * kHour, {2027, 10, 3, 3, 0, 0}},
      // Kolkata: +05:30 all year, across a new year.
      {"Asia/Kolkata", utc(2027, 6, 1), 5 * kHour + 1800, {2027, 6, 1, 5, 30, 0}},
      {"Asia/Kolkata", utc(2027, 12, 31, 18, 30), 5 * kHour + 1800, {2028, 1, 1, 0, 0, 0}},
      // Lord Howe: a 30-minute shift; 02:00 +11 back to 01:30, 02:00 +10:30 on to 02:30.
      {"Australia/Lord_Howe", utc(2027, 4, 3, 14, 59, 59), 11 * kHour, {2027, 4, 4, 1, 59, 59}},
      {"Australia/Lord_Howe", utc(2027, 4, 3, 15), 10 * kHour + 1800, {2027, 4, 4, 1, 30, 0}},
      {"Australia/Lord_Howe", utc(2027, 10, 2, 15, 29, 59), 10 * kHour + 1800, {2027, 10, 3, 1, 59, 59}},
      {"Australia/Lord_Howe", utc(2027, 10, 2, 15, 30), 11 * kHour, {2027, 10, 3, 2, 30, 0}},
      // UTC and a fixed zone (POSIX sign: Etc/GMT+5 is five hours west).
      {"UTC", utc(2027, 7, 1, 12), 0, {2027, 7, 1, 12, 0, 0}},
      {"Etc/GMT+5", utc(2027, 7, 1, 12), -5 * kHour, {2027, 7, 1, 7, 0, 0}},
      // Far beyond the TZif tables (which stop in 2037): the footer's rule.
      {"America/New_York", utc(2100, 3, 14, 6, 59, 59), -5 * kHour, {2100, 3, 14, 1, 59, 59}},
      {"America/New_York", utc(2100, 3, 14, 7), -4 * kHour, {2100, 3, 14, 3, 0, 0}},
      {"America/New_York", utc(2100, 11, 7, 5, 59, 59), -4 * kHour, {2100, 11, 7, 1, 59, 59}},
      {"America/New_York", utc(2100, 11, 7, 6), -5 * kHour, {2100, 11, 7, 1, 0, 0}},
      {"Europe/Berlin", utc(2100, 3, 28, 1), 2 * kHour, {2100, 3, 28, 3, 0, 0}},
      {"Europe/Berlin", utc(2100, 10, 31, 0, 59, 59), 2 * kHour, {2100, 10, 31, 2, 59, 59}},
      {"Europe/Berlin", utc(2100, 10, 31, 1), 1 * kHour, {2100, 10, 31, 2, 0, 0}},
      {"Australia/Sydney", utc(2150, 10, 3, 15, 59, 59), 10 * kHour, {2150, 10, 4, 1, 59, 59}},
      {"Australia/Sydney", utc(2150, 10, 3, 16), 11 * kHour, {2150, 10, 4, 3, 0, 0}},
  };
  for (const auto& c : cases) {
    const TimeZone z = zone(c.zone);
    EXPECT_EQ(z.offset_at(c.t), c.offset) << c.zone << " at " << iso8601(c.t);
    EXPECT_EQ(show(z.to_local(c.t)), show(c.local)) << c.zone << " at " << iso8601(c.t);
  }
}

TEST(TimeZone, NamesAndUtc) {
  REQUIRE_ZONEINFO();
  EXPECT_EQ(TimeZone::utc().name(), "UTC");
  EXPECT_EQ(TimeZone::utc().offset_at(utc(2027, 3, 14, 7)), 0);
  EXPECT_EQ(zone("America/New_York").name(), "America/New_York");
  EXPECT_EQ(zone("Etc/UTC").offset_at(utc(2100, 1, 1)), 0);
  EXPECT_EQ(zone("Etc/GMT-14").offset_at(utc(2027, 1, 1)), 14 * kHour);
}

TEST(TimeZone, PeriodsFromTableAndFooter) {
  REQUIRE_ZONEINFO();
  const TimeZone ny = zone("America/New_York");
  const auto summer = ny.period_at(unix_seconds(utc(2027, 7, 1)));
  EXPECT_EQ(summer.begin, unix_seconds(utc(2027, 3, 14, 7)));
  EXPECT_EQ(summer.end, unix_seconds(utc(2027, 11, 7, 6)));
  EXPECT_EQ(summer.offset, -4 * kHour);
  const auto far = ny.period_at(unix_seconds(utc(2100, 7, 1)));
  EXPECT_EQ(far.begin, unix_seconds(utc(2100, 3, 14, 7)));
  EXPECT_EQ(far.end, unix_seconds(utc(2100, 11, 7, 6)));
  EXPECT_EQ(far.offset, -4 * kHour);
  const auto winter = ny.period_at(unix_seconds(utc(2100, 12, 25)));
  EXPECT_EQ(winter.begin, unix_seconds(utc(2100, 11, 7, 6)));
  EXPECT_EQ(winter.offset, -5 * kHour);
  const auto kolkata = zone("Asia/Kolkata").period_at(unix_seconds(utc(2100, 1, 1)));
  EXPECT_EQ(kolkata.end, INT64_MAX);
  EXPECT_EQ(kolkata.offset, 5 * kHour + 1800);
}

TEST(TimeZone, FromLocalGapsAndOverlaps) {
  REQUIRE_ZONEINFO();
  struct Case {
    const char* zone;
    Civil local;
    std::vector<TimePoint> instants;
  };
  const std::vector<Case> cases = {
      {"America/New_York", {2027, 3, 14, 2, 30, 0}, {}},
      {"America/New_York", {2027, 3, 14, 2, 0, 0}, {}},
      {"America/New_York", {2027, 3, 14, 1, 59, 59}, {utc(2027, 3, 14, 6, 59, 59)}},
      {"America/New_York", {2027, 3, 14, 3, 0, 0}, {utc(2027, 3, 14, 7)}},
      {"America/New_York", {2027, 11, 7, 1, 30, 0}, {utc(2027, 11, 7, 5, 30), utc(2027, 11, 7, 6, 30)}},
      {"America/New_York", {2027, 11, 7, 1, 0, 0}, {utc(2027, 11, 7, 5), utc(2027, 11, 7, 6)}},
      {"America/New_York", {2027, 11, 7, 2, 0, 0}, {utc(2027, 11, 7, 7)}},
      {"America/New_York", {2027, 7, 1, 12, 0, 0}, {utc(2027, 7, 1, 16)}},
      {"America/New_York", {2100, 3, 14, 2, 30, 0}, {}},
      {"America/New_York", {2100, 11, 7, 1, 30, 0}, {utc(2100, 11, 7, 5, 30), utc(2100, 11, 7, 6, 30)}},
      {"Europe/Berlin", {2027, 3, 28, 2, 30, 0}, {}},
      {"Europe/Berlin", {2027, 10, 31, 2, 30, 0}, {utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 1, 30)}},
      {"Australia/Sydney", {2027, 10, 3, 2, 30, 0}, {}},
      {"Australia/Sydney", {2027, 4, 4, 2, 30, 0}, {utc(2027, 4, 3, 15, 30), utc(2027, 4, 3, 16, 30)}},
      {"Australia/Lord_Howe", {2027, 10, 3, 2, 15, 0}, {}},
      {"Australia/Lord_Howe", {2027, 10, 3, 2, 30, 0}, {utc(2027, 10, 2, 15, 30)}},
      {"Australia/Lord_Howe", {2027, 4, 4, 1, 45, 0}, {utc(2027, 4, 3, 14, 45), utc(2027, 4, 3, 15, 15)}},
      {"Australia/Lord_Howe", {2027, 4, 4, 2, 0, 0}, {utc(2027, 4, 3, 15, 30)}},
      {"Asia/Kolkata", {2028, 2, 29, 5, 30, 0}, {utc(2028, 2, 29)}},
      {"UTC", {2028, 2, 29, 12, 0, 0}, {utc(2028, 2, 29, 12)}},
      // Not a date or time at all.
      {"America/New_York", {2027, 2, 29, 12, 0, 0}, {}},
      {"America/New_York", {2027, 4, 31, 12, 0, 0}, {}},
      {"America/New_York", {2027, 1, 1, 24, 0, 0}, {}},
      {"America/New_York", {2027, 13, 1, 0, 0, 0}, {}},
  };
  for (const auto& c : cases) {
    const TimeZone z = zone(c.zone);
    EXPECT_EQ(show(z.from_local(c.local)), show(c.instants)) << c.zone << " " << show(c.local);
  }
}

TEST(TimeZone, ResolveLocalShiftsGapsAndTakesFirstOfOverlaps) {
  REQUIRE_ZONEINFO();
  struct Case {
    const char* zone;
    Civil local;
    std::optional<TimePoint> instant;
  };
  const std::vector<Case> cases = {
      {"America/New_York", {2027, 3, 14, 2, 30, 0}, utc(2027, 3, 14, 7, 30)},  // 03:30 EDT
      {"America/New_York", {2027, 11, 7, 1, 30, 0}, utc(2027, 11, 7, 5, 30)},  // the EDT one
      {"Europe/Berlin", {2027, 3, 28, 2, 0, 0}, utc(2027, 3, 28, 1)},          // 03:00 CEST
      {"Australia/Sydney", {2027, 10, 3, 2, 30, 0}, utc(2027, 10, 2, 16, 30)},  // 03:30 AEDT
      {"Australia/Lord_Howe", {2027, 10, 3, 2, 15, 0}, utc(2027, 10, 2, 15, 45)},  // 02:45 +11
      {"America/New_York", {2100, 3, 14, 2, 30, 0}, utc(2100, 3, 14, 7, 30)},
      {"America/New_York", {2027, 2, 30, 0, 0, 0}, std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(show(zone(c.zone).resolve_local(c.local)), show(c.instant)) << c.zone << " " << show(c.local);
  }
}

// Every local time read back from an instant maps back to that instant (among its one or two).
TEST(TimeZone, ToLocalAndFromLocalAgreeAcrossYears) {
  REQUIRE_ZONEINFO();
  for (const char* name : {"America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe",
                           "Asia/Kolkata", "UTC"}) {
    const TimeZone z = zone(name);
    for (int y : {2027, 2100}) {
      for (TimePoint t = utc(y, 1, 1); t < utc(y + 1, 1, 1); t += std::chrono::minutes(6 * 60 + 7)) {
        const auto back = z.from_local(z.to_local(t));
        bool found = false;
        for (const auto& b : back) found = found || b == t;
        EXPECT_TRUE(found) << name << " " << iso8601(t) << " -> " << show(z.to_local(t)) << " -> "
                           << show(back);
      }
    }
  }
}

// ---- loading ----------------------------------------------------------------------------------------

TEST(TimeZone, RejectsUnknownZonesAndPathTricks) {
  REQUIRE_ZONEINFO();
  const std::vector<std::string> bad = {
      "", "Mars/Olympus_Mons", "America/New_Yrok", "america/new_york", "../../etc/passwd", "/etc/localtime",
      "/usr/share/zoneinfo/UTC", "America/../Europe/Berlin", "./UTC", "..", "America//New_York",
      "America/New_York/", "America", "zone.tab", "iso3166.tab", "tzdata.zi", "leapseconds",
      "posix/America/New_York", "right/UTC", "localtime", "posixrules", "America/New York",
      "America\\New_York", "UTC\n", std::string("UTC\0x", 5), std::string(51, 'A'),
      "America/Argentina/Buenos_Aires/" + std::string(20, 'x')};
  for (const auto& name : bad) {
    auto z = TimeZone::load(name);
    ASSERT_FALSE(z.ok()) << name;
    EXPECT_EQ(z.error().kind, ErrorKind::kValidation) << name;
    EXPECT_EQ(z.error().message, "Invalid timezone: " + name);
  }
  // Long real names load (the limit is 50 characters).
  EXPECT_TRUE(TimeZone::load("America/Argentina/ComodRivadavia").ok());
  EXPECT_TRUE(TimeZone::load("America/Indiana/Indianapolis").ok());
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("gantry_tz_test_" + std::to_string(static_cast<long long>(::getpid())));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_ / "Fake");
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  void write(const std::string& rel, const std::string& bytes) const {
    std::ofstream(path_ / rel, std::ios::binary) << bytes;
  }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(TimeZone, LoadsFromAnotherDirectoryAndRejectsFilesThatAreNotTzif) {
  REQUIRE_ZONEINFO();
  TempDir dir;
  const std::string ny = read_file("/usr/share/zoneinfo/America/New_York");
  dir.write("Fake/Good", ny);
  dir.write("Fake/Text", "this is not a TZif file\n");
  dir.write("Fake/Empty", "");
  dir.write("Fake/Truncated", ny.substr(0, ny.size() / 2));
  dir.write("Fake/NoFooterNewline", ny.substr(0, ny.size() - 1));
  auto good = TimeZone::load("Fake/Good", dir.str());
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->offset_at(utc(2027, 7, 1)), -4 * kHour);
  for (const char* name :
       {"Fake/Text", "Fake/Empty", "Fake/Truncated", "Fake/NoFooterNewline", "Fake/Missing", "Fake"}) {
    auto z = TimeZone::load(name, dir.str());
    ASSERT_FALSE(z.ok()) << name;
    EXPECT_EQ(z.error().message, std::string("Invalid timezone: ") + name);
  }
}

// ---- synthetic TZif files ---------------------------------------------------------------------------

void put32(std::string& out, int64_t v) {
  const auto u = static_cast<uint32_t>(static_cast<int32_t>(v));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
}

void put64(std::string& out, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
}

struct Table {
  std::vector<int64_t> times;
  std::vector<uint8_t> index;
  std::vector<int32_t> offsets;  // one local time type each, designation "" for all
  uint32_t leapcnt = 0;
};

void put_header(std::string& out, char version, const Table& t) {
  out += "TZif";
  out.push_back(version);
  out += std::string(15, '\0');
  put32(out, 0);  // isutcnt
  put32(out, 0);  // isstdcnt
  put32(out, t.leapcnt);
  put32(out, static_cast<int64_t>(t.times.size()));
  put32(out, static_cast<int64_t>(t.offsets.size()));
  put32(out, 1);  // charcnt
}

void put_block(std::string& out, const Table& t, bool wide) {
  for (int64_t v : t.times) wide ? put64(out, v) : put32(out, v);
  for (uint8_t i : t.index) out.push_back(static_cast<char>(i));
  for (int32_t off : t.offsets) {
    put32(out, off);
    out.push_back('\0');  // isdst
    out.push_back('\0');  // designation index
  }
  out.push_back('\0');  // the designation characters
  for (uint32_t i = 0; i < t.leapcnt; ++i) {  // a leap-second record: when, and the correction
    wide ? put64(out, 0) : put32(out, 0);
    put32(out, 0);
  }
}

// A version-2 file: a one-type version-1 block, then `t` in 64 bits, then the footer.
std::string tzif_v2(const Table& t, const std::string& footer) {
  std::string out;
  const Table minimal{{}, {}, {0}, t.leapcnt};
  put_header(out, '2', minimal);
  put_block(out, minimal, false);
  put_header(out, '2', t);
  put_block(out, t, true);
  return out + "\n" + footer + "\n";
}

std::string tzif_v1(const Table& t) {
  std::string out;
  put_header(out, '\0', t);
  put_block(out, t, false);
  return out;
}

TEST(TimeZone, FooterRulesAlone) {
  struct Case {
    const char* footer;
    TimePoint t;
    int offset;
  };
  const std::vector<Case> cases = {
      // Sydney's rule: DST starts first Sunday in October 02:00 standard, ends first Sunday in April
      // 03:00 daylight (southern hemisphere: DST spans the new year).
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2027, 1, 1), 11 * kHour},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2027, 4, 3, 15, 59, 59), 11 * kHour},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2027, 4, 3, 16), 10 * kHour},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2027, 10, 2, 15, 59, 59), 10 * kHour},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2027, 10, 2, 16), 11 * kHour},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", utc(2027, 12, 31, 23), 11 * kHour},
      // Lord Howe's quoted names and half-hour offsets; DST offset given explicitly.
      {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", utc(2027, 10, 2, 15, 29, 59), 10 * kHour + 1800},
      {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", utc(2027, 10, 2, 15, 30), 11 * kHour},
      {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", utc(2027, 4, 3, 14, 59, 59), 11 * kHour},
      {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", utc(2027, 4, 3, 15), 10 * kHour + 1800},
      // Jn never counts February 29th: J60 is March 1st, J300 October 27th, leap year or not.
      {"AAA3BBB,J60/2,J300/2", utc(2028, 3, 1, 4, 59, 59), -3 * kHour},
      {"AAA3BBB,J60/2,J300/2", utc(2028, 3, 1, 5), -2 * kHour},
      {"AAA3BBB,J60/2,J300/2", utc(2028, 10, 27, 3, 59, 59), -2 * kHour},
      {"AAA3BBB,J60/2,J300/2", utc(2028, 10, 27, 4), -3 * kHour},
      {"AAA3BBB,J60/2,J300/2", utc(2027, 3, 1, 5), -2 * kHour},
      // n counts from 0 and does count February 29th: 59 is Feb 29 in 2028, March 1 in 2027.
      {"AAA3BBB,59/2,299/2", utc(2028, 2, 29, 4, 59, 59), -3 * kHour},
      {"AAA3BBB,59/2,299/2", utc(2028, 2, 29, 5), -2 * kHour},
      {"AAA3BBB,59/2,299/2", utc(2028, 10, 26, 4), -3 * kHour},
      {"AAA3BBB,59/2,299/2", utc(2027, 2, 28, 23), -3 * kHour},
      {"AAA3BBB,59/2,299/2", utc(2027, 3, 1, 5), -2 * kHour},
      // Nuuk's rule: a negative transition time (-1:00 on the last Sunday of March, i.e. 23:00 the
      // Saturday before); both changes at 01:00 UTC.
      {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", utc(2027, 3, 28, 0, 59, 59), -2 * kHour},
      {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", utc(2027, 3, 28, 1), -1 * kHour},
      {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", utc(2027, 10, 31, 0, 59, 59), -1 * kHour},
      {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", utc(2027, 10, 31, 1), -2 * kHour},
      // DST all year round (RFC 8536's example): always the daylight offset.
      {"EST5EDT,0/0,J365/25", utc(2027, 1, 1), -4 * kHour},
      {"EST5EDT,0/0,J365/25", utc(2027, 1, 1, 5), -4 * kHour},
      {"EST5EDT,0/0,J365/25", utc(2027, 7, 1), -4 * kHour},
      {"EST5EDT,0/0,J365/25", utc(2027, 12, 31, 23, 59, 59), -4 * kHour},
      // No DST; a default DST offset (one hour more than standard).
      {"<+0530>-5:30", utc(2027, 7, 1), 5 * kHour + 1800},
      {"IST-5:30", utc(2190, 7, 1), 5 * kHour + 1800},
      {"CET-1CEST,M3.5.0,M10.5.0/3", utc(2027, 7, 1), 2 * kHour},
  };
  for (const auto& c : cases) {
    auto z = TimeZone::from_tzif("Test/Rule", tzif_v2({{}, {}, {0}}, c.footer));
    ASSERT_TRUE(z.ok()) << c.footer << ": " << z.error().message;
    EXPECT_EQ(z->offset_at(c.t), c.offset) << c.footer << " at " << iso8601(c.t);
  }
}

TEST(TimeZone, TableThenFooterAndVersionOne) {
  // 1990-01-01 moves from +00:00 to EST; the US rule after that.
  const int64_t t1990 = unix_seconds(utc(1990, 1, 1));
  auto z =
      TimeZone::from_tzif("Test/Table", tzif_v2({{t1990}, {1}, {0, -5 * kHour}}, "EST5EDT,M3.2.0,M11.1.0"));
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(z->offset_at(utc(1989, 7, 1)), 0);
  EXPECT_EQ(z->offset_at(utc(1995, 1, 1)), -5 * kHour);
  EXPECT_EQ(z->offset_at(utc(1995, 7, 1)), -4 * kHour);
  EXPECT_EQ(z->offset_at(utc(2027, 3, 14, 7)), -4 * kHour);
  EXPECT_EQ(z->offset_at(utc(2027, 3, 14, 6, 59, 59)), -5 * kHour);

  // Version 1: 32-bit times, no footer; the last offset holds for ever.
  const int64_t t2000 = unix_seconds(utc(2000, 1, 1));
  auto v1 = TimeZone::from_tzif("Test/V1", tzif_v1({{t2000}, {1}, {kHour, 2 * kHour}}));
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(v1->offset_at(utc(1999, 12, 31, 23)), kHour);
  EXPECT_EQ(v1->offset_at(utc(2000, 1, 1)), 2 * kHour);
  EXPECT_EQ(v1->offset_at(utc(2150, 1, 1)), 2 * kHour);

  // An empty footer: the last offset of the table.
  auto empty = TimeZone::from_tzif("Test/Empty", tzif_v2({{t2000}, {1}, {kHour, 3 * kHour}}, ""));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->offset_at(utc(2150, 1, 1)), 3 * kHour);
}

TEST(TimeZone, RejectsMalformedTzif) {
  const int64_t t2000 = unix_seconds(utc(2000, 1, 1));
  const std::string good = tzif_v2({{t2000}, {1}, {0, kHour}}, "<+01>-1");
  ASSERT_TRUE(TimeZone::from_tzif("Test/Good", good).ok());
  std::string bad_magic = good;
  bad_magic[3] = 'g';
  std::string bad_version = good;
  bad_version[4] = '5';
  std::vector<std::string> bad = {
      "",
      "TZif",
      bad_magic,
      bad_version,
      good.substr(0, good.size() - 1),                                  // footer without its newline
      good.substr(0, 60),                                               // truncated
      tzif_v2({{t2000, t2000}, {1, 0}, {0, kHour}}, ""),               // times not ascending
      tzif_v2({{t2000}, {2}, {0, kHour}}, ""),                          // type index out of range
      tzif_v2({{t2000}, {1}, {0, 30 * kHour}}, ""),                     // offset out of range
      tzif_v2({{}, {}, {0}}, "EST5EDT,M13.1.0,M11.1.0"),                // month 13
      tzif_v2({{}, {}, {0}}, "EST5EDT,M3.2.0"),                         // one transition only
      tzif_v2({{}, {}, {0}}, "E5"),                                     // name too short
      tzif_v2({{}, {}, {0}}, "EST5EDT,M3.2.0,M11.1.0 "),                // trailing garbage
      tzif_v2({{}, {}, {0}}, "EST"),                                    // no offset
      tzif_v2({{}, {}, {0}, 1}, "UTC0"),                                // leap-second records
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    auto z = TimeZone::from_tzif("Test/Bad", bad[i]);
    ASSERT_FALSE(z.ok()) << "case " << i;
    EXPECT_EQ(z.error().kind, ErrorKind::kValidation);
    EXPECT_EQ(z.error().message, "Invalid timezone: Test/Bad");
  }
}

// ---- cron in a zone ---------------------------------------------------------------------------------

TEST(NextInZone, CronFollowsLocalTimeAndAwsDstRules) {
  REQUIRE_ZONEINFO();
  struct Case {
    const char* zone;
    const char* expr;
    TimePoint after;
    std::optional<TimePoint> want;
  };
  const TimePoint anchor = utc(2020, 1, 1);
  const std::vector<Case> cases = {
      // 02:00 does not exist in New York on 2027-03-14: that day's run is skipped, not moved.
      {"America/New_York", "cron(0 2 * * ? *)", utc(2027, 3, 12, 8), utc(2027, 3, 13, 7)},
      {"America/New_York", "cron(0 2 * * ? *)", utc(2027, 3, 13, 7), utc(2027, 3, 15, 6)},
      // 01:30 happens twice on 2027-11-07: it runs at the first (EDT) only.
      {"America/New_York", "cron(30 1 * * ? *)", utc(2027, 11, 6, 5, 30), utc(2027, 11, 7, 5, 30)},
      {"America/New_York", "cron(30 1 * * ? *)", utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30)},
      {"America/New_York", "cron(30 1 * * ? *)", utc(2027, 11, 7, 6), utc(2027, 11, 8, 6, 30)},
      // Hourly: 01:00 EDT runs, 01:00 EST is a repeat, next is 02:00 EST.
      {"America/New_York", "cron(0 * * * ? *)", utc(2027, 11, 7, 5), utc(2027, 11, 7, 7)},
      {"America/New_York", "cron(*/15 * * * ? *)", utc(2027, 3, 14, 6, 45), utc(2027, 3, 14, 7)},
      {"America/New_York", "cron(0 12 * * ? *)", utc(2027, 1, 1), utc(2027, 1, 1, 17)},
      {"America/New_York", "cron(0 12 * * ? *)", utc(2027, 7, 1), utc(2027, 7, 1, 16)},
      // Berlin.
      {"Europe/Berlin", "cron(30 2 * * ? *)", utc(2027, 3, 27, 2), utc(2027, 3, 29, 0, 30)},
      {"Europe/Berlin", "cron(30 2 * * ? *)", utc(2027, 10, 30, 1), utc(2027, 10, 31, 0, 30)},
      {"Europe/Berlin", "cron(30 2 * * ? *)", utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 1, 30)},
      // Sydney: spring forward in October, fall back in April.
      {"Australia/Sydney", "cron(30 2 * * ? *)", utc(2027, 10, 2), utc(2027, 10, 3, 15, 30)},
      {"Australia/Sydney", "cron(30 2 * * ? *)", utc(2027, 4, 2, 16), utc(2027, 4, 3, 15, 30)},
      {"Australia/Sydney", "cron(30 2 * * ? *)", utc(2027, 4, 3, 15, 30), utc(2027, 4, 4, 16, 30)},
      // Kolkata: +05:30, local days start at 18:30Z.
      {"Asia/Kolkata", "cron(0 9 * * ? *)", utc(2027, 1, 1), utc(2027, 1, 1, 3, 30)},
      {"Asia/Kolkata", "cron(0 0 1 1 ? *)", utc(2027, 6, 1), utc(2027, 12, 31, 18, 30)},
      {"Asia/Kolkata", "cron(0 0 1 1 ? 2026)", utc(2027, 1, 1), std::nullopt},
      // Lord Howe: a 30-minute gap (02:00-02:30) and overlap (01:30-02:00).
      {"Australia/Lord_Howe", "cron(15 2 * * ? *)", utc(2027, 10, 2), utc(2027, 10, 3, 15, 15)},
      {"Australia/Lord_Howe", "cron(30 2 * * ? *)", utc(2027, 10, 2), utc(2027, 10, 2, 15, 30)},
      {"Australia/Lord_Howe", "cron(45 1 * * ? *)", utc(2027, 4, 3), utc(2027, 4, 3, 14, 45)},
      {"Australia/Lord_Howe", "cron(45 1 * * ? *)", utc(2027, 4, 3, 14, 45), utc(2027, 4, 4, 15, 15)},
      // Leap day.
      {"America/New_York", "cron(0 12 29 2 ? *)", utc(2027, 3, 1), utc(2028, 2, 29, 17)},
      {"Australia/Sydney", "cron(0 0 29 2 ? *)", utc(2027, 3, 1), utc(2028, 2, 28, 13)},
      // L, W, LW, # and xL name local days (UTC days would differ for each of these).
      {"America/New_York", "cron(0 23 L * ? *)", utc(2027, 1, 31), utc(2027, 2, 1, 4)},
      {"America/New_York", "cron(0 23 L * ? *)", utc(2028, 2, 2), utc(2028, 3, 1, 4)},
      // Saturday the 15th: Friday the 14th; Sunday the 15th: Monday the 16th.
      {"Australia/Sydney", "cron(0 0 15W * ? *)", utc(2027, 5, 1), utc(2027, 5, 13, 14)},
      {"Australia/Sydney", "cron(0 0 15W * ? *)", utc(2027, 8, 1), utc(2027, 8, 15, 14)},
      // October 31st 2027 is a Sunday: the last weekday is Friday the 29th.
      {"America/New_York", "cron(0 18 LW * ? *)", utc(2027, 10, 1), utc(2027, 10, 29, 22)},
      // The first Friday of 2027 is January 1st: 21:00 EST is 02:00Z on the 2nd.
      {"America/New_York", "cron(0 21 ? * 6#1 *)", utc(2027, 1, 1), utc(2027, 1, 2, 2)},
      // The last Monday of June 2027 is the 28th: 09:00 AEST is 23:00Z on the 27th.
      {"Australia/Sydney", "cron(0 9 ? * 2L *)", utc(2027, 6, 1), utc(2027, 6, 27, 23)},
      // Beyond the TZif table: the footer's rule, gap and overlap included.
      {"America/New_York", "cron(0 12 1 7 ? 2100)", utc(2099, 1, 1), utc(2100, 7, 1, 16)},
      {"America/New_York", "cron(30 2 14 3 ? 2100)", utc(2099, 1, 1), std::nullopt},
      {"America/New_York", "cron(30 1 7 11 ? 2100)", utc(2100, 1, 1), utc(2100, 11, 7, 5, 30)},
      {"America/New_York", "cron(30 1 7 11 ? 2100)", utc(2100, 11, 7, 5, 30), std::nullopt},
      // UTC and a fixed zone.
      {"UTC", "cron(0 2 * * ? *)", utc(2027, 3, 14), utc(2027, 3, 14, 2)},
      {"Etc/GMT+5", "cron(0 0 * * ? *)", utc(2027, 1, 1), utc(2027, 1, 1, 5)},
      // Far past the last year a cron can name.
      {"America/New_York", "cron(0 0 1 1 ? *)", utc(2199, 12, 31), std::nullopt},
  };
  for (const auto& c : cases) {
    const TimeZone z = zone(c.zone);
    EXPECT_EQ(show(next_in_zone(expr(c.expr), z, c.after, anchor)), show(c.want))
        << c.zone << " " << c.expr << " after " << iso8601(c.after);
  }
}

// Every half hour of 2027 in New York, fire by fire: each local wall time runs exactly once, none in the
// spring-forward gap, the fall-back hour once (so 48 runs on the 25-hour day and 46 on the 23-hour one).
TEST(NextInZone, WalksAYearOfHalfHoursInNewYork) {
  REQUIRE_ZONEINFO();
  const TimeZone ny = zone("America/New_York");
  const Expression e = expr("cron(0/30 * * * ? *)");
  std::set<std::string> walls;
  int on_spring_day = 0;
  int on_fall_day = 0;
  int total = 0;
  std::optional<TimePoint> t = utc(2027, 1, 1, 4, 59);  // 2026-12-31 23:59 EST
  TimePoint prev = *t;
  while ((t = next_in_zone(e, ny, *t, utc(2020, 1, 1)))) {
    const Civil local = ny.to_local(*t);
    if (local.year != 2027) break;
    ASSERT_GT(*t, prev);
    prev = *t;
    EXPECT_TRUE(local.minute == 0 || local.minute == 30) << iso8601(*t);
    EXPECT_TRUE(walls.insert(show(local)).second) << "ran twice at " << show(local);
    on_spring_day += local.month == 3 && local.day == 14;
    on_fall_day += local.month == 11 && local.day == 7;
    ++total;
  }
  EXPECT_EQ(on_spring_day, 46);
  EXPECT_EQ(on_fall_day, 48);
  EXPECT_EQ(total, 365 * 48 - 2);
}

TEST(NextInZone, UtcZoneMatchesTheUtcWalker) {
  const std::vector<std::string> exprs = {"cron(0 2 * * ? *)", "cron(*/7 * * * ? *)", "cron(0 0 L * ? *)",
                                          "cron(15 10 ? * 6L 2026-2030)", "cron(0 8 ? * 2#1 *)",
                                          "cron(0 9 15W * ? *)", "rate(5 minutes)", "rate(1 day)"};
  const TimePoint anchor = utc(2026, 5, 5, 5, 5, 5);
  for (const auto& text : exprs) {
    const Expression e = expr(text);
    for (TimePoint after : {utc(2026, 1, 1), utc(2027, 3, 14, 6, 59, 59), utc(2027, 11, 7, 5, 30, 1),
                            utc(2030, 12, 31, 23, 59, 59)}) {
      EXPECT_EQ(show(next_in_zone(e, TimeZone::utc(), after, anchor)), show(next_after(e, after, anchor)))
          << text << " after " << iso8601(after);
    }
  }
}

TEST(NextInZone, RateIgnoresTheZone) {
  REQUIRE_ZONEINFO();
  const TimeZone ny = zone("America/New_York");
  // rate(1 day) is 24 hours even across spring forward: 02:00 EST, then 03:00 EDT.
  const TimePoint anchor = utc(2027, 3, 13, 7);
  EXPECT_EQ(show(next_in_zone(expr("rate(1 day)"), ny, anchor, anchor)), show(utc(2027, 3, 14, 7)));
  EXPECT_EQ(show(next_in_zone(expr("rate(1 day)"), ny, utc(2027, 3, 14, 7), anchor)),
            show(utc(2027, 3, 15, 7)));
  EXPECT_EQ(show(next_in_zone(expr("rate(90 minutes)"), ny, utc(2027, 11, 7, 5), anchor)),
            show(next_after(expr("rate(90 minutes)"), utc(2027, 11, 7, 5), anchor)));
}

// ---- at() -------------------------------------------------------------------------------------------

TEST(ParseAt, AcceptsTheDocumentedShape) {
  struct Case {
    const char* text;
    Civil want;
  };
  const std::vector<Case> cases = {
      {"at(2027-01-31T23:59:59)", {2027, 1, 31, 23, 59, 59}},
      {"at(2028-02-29T00:00:00)", {2028, 2, 29, 0, 0, 0}},
      {"at(2022-11-20T13:00:00)", {2022, 11, 20, 13, 0, 0}},
      {"at(1970-01-01T00:00:00)", {1970, 1, 1, 0, 0, 0}},
      {"at(2199-12-31T23:59:59)", {2199, 12, 31, 23, 59, 59}},
  };
  for (const auto& c : cases) {
    auto got = parse_at(c.text);
    ASSERT_TRUE(got.ok()) << c.text;
    EXPECT_EQ(show(*got), show(c.want)) << c.text;
  }
}

TEST(ParseAt, RejectsEverythingElseWithSchedulerMessage) {
  const std::vector<std::string> bad = {
      "", "at()", "rate(5 minutes)", "AT(2027-01-31T23:59:59)", "at 2027-01-31T23:59:59",
      // Not a calendar date, or not a time of day.
      "at(2027-02-29T00:00:00)", "at(2027-04-31T00:00:00)", "at(2027-13-01T00:00:00)",
      "at(2027-00-01T00:00:00)", "at(2027-01-00T00:00:00)", "at(2027-01-31T24:00:00)",
      "at(2027-01-31T23:60:00)", "at(2027-01-31T23:59:60)",
      // Other shapes.
      "at(2027-01-31 23:59:59)", "at(2027-01-31t23:59:59)", "at(2027-01-31T23:59:59Z)",
      "at(2021-12-31T23:59:59+01:00)", "at(2027-01-31T23:59)", "at(2027-01-31)", "at( 2027-01-31T23:59:59)",
      "at(2027-01-31T23:59:59 )", "at(2027-1-31T23:59:59)", "at(2027-01-31T23:59:59.000)",
      "at(2027-01-31T23:59:59", "at(+027-01-31T23:59:59)", "at(2027-01-31T23:59:5x)",
      // Years a cron cannot name either.
      "at(1969-12-31T23:59:59)", "at(2200-01-01T00:00:00)"};
  for (const auto& text : bad) {
    auto got = parse_at(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_EQ(got.error().kind, ErrorKind::kValidation);
    EXPECT_EQ(got.error().message, "Invalid Schedule Expression " + text + ".");
  }
}

TEST(NextInZone, OneTimeSchedules) {
  REQUIRE_ZONEINFO();
  struct Case {
    const char* zone;
    const char* at;
    TimePoint after;
    std::optional<TimePoint> want;
  };
  const std::vector<Case> cases = {
      {"America/New_York", "at(2027-07-01T12:00:00)", utc(2027, 1, 1), utc(2027, 7, 1, 16)},
      {"America/New_York", "at(2027-11-07T01:30:00)", utc(2027, 1, 1), utc(2027, 11, 7, 5, 30)},  // first
      {"America/New_York", "at(2027-03-14T02:30:00)", utc(2027, 1, 1), utc(2027, 3, 14, 7, 30)},  // 03:30 EDT
      {"Australia/Lord_Howe", "at(2027-10-03T02:15:00)", utc(2027, 1, 1), utc(2027, 10, 2, 15, 45)},
      {"Asia/Kolkata", "at(2027-01-01T00:00:00)", utc(2026, 1, 1), utc(2026, 12, 31, 18, 30)},
      {"Europe/Berlin", "at(2027-06-01T12:00:00)", utc(2027, 6, 1, 9, 59, 59), utc(2027, 6, 1, 10)},
      {"Europe/Berlin", "at(2027-06-01T12:00:00)", utc(2027, 6, 1, 10), std::nullopt},  // not strictly after
      {"Europe/Berlin", "at(2027-06-01T12:00:00)", utc(2028, 1, 1), std::nullopt},
      {"America/New_York", "at(2100-07-01T12:00:00)", utc(2027, 1, 1), utc(2100, 7, 1, 16)},
      {"UTC", "at(2028-02-29T12:00:00)", utc(2027, 1, 1), utc(2028, 2, 29, 12)},
  };
  for (const auto& c : cases) {
    auto when = parse_at(c.at);
    ASSERT_TRUE(when.ok()) << c.at;
    EXPECT_EQ(show(next_in_zone(At{*when}, zone(c.zone), c.after)), show(c.want))
        << c.zone << " " << c.at << " after " << iso8601(c.after);
  }
}

}  // namespace
}  // namespace gantry::schedule
