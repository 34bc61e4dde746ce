// The timer queue: manual mode fires in due order with the clock at each entry's time, entries added while
// firing fire in the same advance, going back rebases; real mode wakes for an entry due soon.
#include "schedule/timer_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace gantry::schedule {
namespace {

using namespace std::chrono_literals;

TimePoint at(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

TEST(TimerQueueTest, ManualFiresInDueOrderAtEachEntrysTime) {
  FakeClock clock(at(1000));
  auto q = TimerQueue::manual(clock);
  std::vector<std::pair<std::string, TimePoint>> fired;
  auto rec = [&](std::string name) {
    return [&, name](TimePoint due, TimePoint now) {
      EXPECT_EQ(due, now);
      fired.emplace_back(name, clock.now());
    };
  };
  q->schedule("b", at(1020), rec("b"));
  q->schedule("a", at(1010), rec("a"));
  q->schedule("c", at(1100), rec("c"));
  EXPECT_EQ(q->advance_to(at(1005)), 0u);
  EXPECT_EQ(clock.now(), at(1005));
  EXPECT_EQ(q->advance_to(at(1050)), 2u);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], std::make_pair(std::string("a"), at(1010)));
  EXPECT_EQ(fired[1], std::make_pair(std::string("b"), at(1020)));
  EXPECT_EQ(clock.now(), at(1050));
  EXPECT_EQ(q->size(), 1u);
  q->cancel("c");
  EXPECT_EQ(q->advance_to(at(2000)), 0u);
}

TEST(TimerQueueTest, ManualRunsEntriesAddedWhileFiringAndReplacesByKey) {
  FakeClock clock(at(0));
  auto q = TimerQueue::manual(clock);
  int ticks = 0;
  std::function<void(TimePoint, TimePoint)> tick = [&](TimePoint due, TimePoint) {
    ++ticks;
    q->schedule("tick", due + 60s, tick);  // a recurring entry schedules its next slot itself
  };
  q->schedule("tick", at(60), tick);
  EXPECT_EQ(q->advance_to(at(600)), 10u);
  EXPECT_EQ(ticks, 10);
  EXPECT_EQ(q->due("tick"), at(660));
  q->schedule("tick", at(10000), tick);  // replaced, not added
  EXPECT_EQ(q->size(), 1u);
  EXPECT_EQ(q->advance_to(at(9999)), 0u);
}

TEST(TimerQueueTest, ManualGoingBackRebasesAndFiresNothing) {
  FakeClock clock(at(1000));
  auto q = TimerQueue::manual(clock);
  int fired = 0;
  q->schedule("r", at(1060), [&](TimePoint, TimePoint) { ++fired; },
              [](TimePoint now) { return std::optional<TimePoint>(now + 60s); });
  q->schedule("once", at(1030), [&](TimePoint, TimePoint) { ++fired; });
  EXPECT_EQ(q->advance_to(at(100)), 0u);
  EXPECT_EQ(clock.now(), at(100));
  EXPECT_EQ(q->due("r"), at(160));     // rebased from the new time
  EXPECT_EQ(q->due("once"), at(1030));  // no rebase function: stays
  EXPECT_EQ(fired, 0);
}

TEST(TimerQueueTest, RealWakesWhenAnEntryIsDue) {
  SystemClock clock;
  auto q = TimerQueue::real(clock);
  std::atomic<int> fired{0};
  std::atomic<int64_t> late_us{0};
  auto due = clock.now() + 50ms;
  q->schedule("soon", due, [&](TimePoint d, TimePoint now) {
    late_us = std::chrono::duration_cast<std::chrono::microseconds>(now - d).count();
    ++fired;
  });
  q->schedule("cancelled", clock.now() + 20ms, [&](TimePoint, TimePoint) { fired += 100; });
  q->cancel("cancelled");
  for (int i = 0; i < 200 && fired.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(fired.load(), 1);
  EXPECT_GE(late_us.load(), 0);
  EXPECT_EQ(q->size(), 0u);
  q->stop();
}

TEST(TimerQueueTest, RealCallsPrepareHooksShortlyBeforeASlot) {
  SystemClock clock;
  auto q = TimerQueue::real(clock);
  std::atomic<int64_t> prepared_lead_ms{-1};
  std::atomic<int64_t> hook_slot{0};
  std::atomic<bool> fired{false};
  auto due = clock.now() + 600ms;
  q->add_prepare_hook([&](TimePoint slot) {
    hook_slot = slot.time_since_epoch().count();
    prepared_lead_ms = std::chrono::duration_cast<std::chrono::milliseconds>(slot - clock.now()).count();
  });
  q->schedule("slot", due, [&](TimePoint, TimePoint) { fired = true; });
  for (int i = 0; i < 300 && !fired.load(); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(fired.load());
  EXPECT_EQ(hook_slot.load(), due.time_since_epoch().count());
  EXPECT_GT(prepared_lead_ms.load(), 0);    // before the slot
  EXPECT_LE(prepared_lead_ms.load(), 200);  // but not long before
  q->stop();
}

}  // namespace
}  // namespace gantry::schedule
