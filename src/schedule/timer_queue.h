// The one place Gantry waits for a time of day: scheduled rules' slots and delivery retries are entries
// here, each a key, a due time and what to run then.
//
// Two modes, chosen at construction:
// - Real: a thread sleeps on a CLOCK_REALTIME timerfd armed for the earliest entry, so it wakes exactly
//   when that entry is due (no polling) and also when the wall clock is set (TFD_TIMER_CANCEL_ON_SET).
//   After a jump of the clock every entry with a `rebase` function is given its due time anew from the
//   new now, so neither a forward jump (a burst of missed slots) nor a backward one (a long silence)
//   follows.
// - Manual (`gantry server --clock manual`, tests): nothing runs by itself; advance_to() moves the
//   FakeClock through every due entry in due order, setting the clock to each entry's time before running
//   it, so what fires sees the time of its slot.
//
// Entries run one at a time, never while the queue's lock is held; they may add or cancel entries
// (their own key too). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"

namespace gantry::schedule {

class TimerQueue {
 public:
  // Runs at `due`. `now` is the clock when it runs (later than `due` by the queue's lateness). The entry
  // is removed before it runs; a recurring one schedules its next slot itself.
  using Fire = std::function<void(TimePoint due, TimePoint now)>;
  // After a jump of the wall clock: the entry's new due time from `now`; nullopt drops the entry.
  using Rebase = std::function<std::optional<TimePoint>(TimePoint now)>;

  // Real mode on `clock` (a clock of the wall time). Starts its thread.
  static std::unique_ptr<TimerQueue> real(const Clock& clock);
  // Manual mode: `clock` moves only through advance_to().
  static std::unique_ptr<TimerQueue> manual(FakeClock& clock);
  virtual ~TimerQueue() = default;

  // Adds the entry or replaces the one with the same key.
  virtual void schedule(const std::string& key, TimePoint due, Fire fire, Rebase rebase = nullptr) = 0;
  virtual void cancel(const std::string& key) = 0;
  virtual std::optional<TimePoint> due(const std::string& key) const = 0;
  virtual size_t size() const = 0;

  // Manual mode: runs every entry due at or before `t` (entries added meanwhile too), in due order, and
  // leaves the clock at `t` — unless `max_runs` entries ran first: then the clock stays at the last one's time
  // (call again to go on). Setting the clock back runs nothing and rebases the entries, as a jump of the wall
  // clock does. Calls are serialized. Returns how many entries ran. Real mode: returns 0.
  virtual size_t advance_to(TimePoint t, size_t max_runs = SIZE_MAX) = 0;
  // Stops the real mode's thread (entries no longer run); also done by the destructor.
  virtual void stop() = 0;

  // Real mode: `hook(slot)` runs on the queue's thread about 200 ms before each time entries are due, to read
  // the data firing them will touch. Hosts that page out an idle server's memory (virtual machines do) would
  // otherwise make the first firings of a slot wait for it. Manual mode: never called.
  using PrepareHook = std::function<void(TimePoint slot)>;
  virtual void add_prepare_hook(PrepareHook hook) = 0;
};

}  // namespace gantry::schedule
