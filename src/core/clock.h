// The only way Gantry code learns the time. SystemClock is the one place that reads the real clock;
// tests use FakeClock and move it explicitly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>

namespace gantry {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void advance(std::chrono::nanoseconds d) {
    now_ += std::chrono::duration_cast<TimePoint::duration>(d).count();
  }
  void set(TimePoint t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<TimePoint::rep> now_;
};

// Seconds since the epoch with millisecond fraction, as AWS json protocols send timestamps.
double epoch_seconds(TimePoint t);
// Clamped to about ±9e9 seconds (years 1685-2255), so no input overflows a TimePoint.
TimePoint from_epoch_seconds(double s);
// 2024-01-02T03:04:05.678Z, as query/XML and rest-json protocols send timestamps.
std::string iso8601(TimePoint t);
// "2027-01-31T23:59:59Z" or with a fraction ("...:59.250Z") or an offset ("+02:00"), years 1970-2199; nullopt
// otherwise.
std::optional<TimePoint> parse_iso8601(std::string_view text);

}  // namespace gantry
