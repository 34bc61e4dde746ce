#include "schedule/timer_queue.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <poll.h>
#include <set>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace gantry::schedule {

namespace {

struct Entry {
  TimePoint due;
  TimerQueue::Fire fire;
  TimerQueue::Rebase rebase;
};

// The entries, by key and by (due, key); what both modes share.
class Entries {
 public:
  void put(const std::string& key, TimePoint due, TimerQueue::Fire fire, TimerQueue::Rebase rebase) {
    remove(key);
    by_key_.emplace(key, Entry{due, std::move(fire), std::move(rebase)});
    order_.emplace(due, key);
  }
  void remove(const std::string& key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return;
    order_.erase({it->second.due, key});
    by_key_.erase(it);
  }
  std::optional<TimePoint> due(const std::string& key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? std::nullopt : std::optional<TimePoint>(it->second.due);
  }
  std::optional<TimePoint> earliest() const {
    return order_.empty() ? std::nullopt : std::optional<TimePoint>(order_.begin()->first);
  }
  // Removes and returns the earliest entry when it is due at or before `t`.
  std::optional<Entry> pop_due(TimePoint t) {
    if (order_.empty() || order_.begin()->first > t) return std::nullopt;
    auto key = order_.begin()->second;
    order_.erase(order_.begin());
    auto it = by_key_.find(key);
    Entry e = std::move(it->second);
    by_key_.erase(it);
    return e;
  }
  // Every entry with a rebase function gets its due time from `now` (or goes).
  void rebase_all(TimePoint now) {
    std::vector<std::string> gone;
    for (auto& [key, e] : by_key_) {
      if (!e.rebase) continue;
      auto next = e.rebase(now);
      order_.erase({e.due, key});
      if (!next) {
        gone.push_back(key);
        continue;
      }
      e.due = *next;
      order_.emplace(e.due, key);
    }
    for (const auto& key : gone) by_key_.erase(key);
  }
  size_t size() const { return by_key_.size(); }

 private:
  std::map<std::string, Entry> by_key_;
  std::set<std::pair<TimePoint, std::string>> order_;
};

// The entries under a lock: what both queues do the same way. `added` runs after an entry was put.
class LockedQueue : public TimerQueue {
 public:
  void schedule(const std::string& key, TimePoint due, Fire fire, Rebase rebase) override {
    {
      std::lock_guard lock(mu_);
      entries_.put(key, due, std::move(fire), std::move(rebase));
    }
    added();
  }
  void cancel(const std::string& key) override {
    std::lock_guard lock(mu_);
    entries_.remove(key);  // a real timer armed for it wakes its thread once, finding nothing due
  }
  std::optional<TimePoint> due(const std::string& key) const override {
    std::lock_guard lock(mu_);
    return entries_.due(key);
  }
  size_t size() const override {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 protected:
  virtual void added() {}
  mutable std::mutex mu_;
  Entries entries_;
};

class ManualQueue final : public LockedQueue {
 public:
  explicit ManualQueue(FakeClock& clock) : clock_(clock) {}

  size_t advance_to(TimePoint t) override {
    std::lock_guard serial(advance_mu_);
    if (t < clock_.now()) {
      clock_.set(t);
      std::lock_guard lock(mu_);
      entries_.rebase_all(t);
      return 0;
    }
    size_t ran = 0;
    for (;;) {
      std::optional<Entry> e;
      {
        std::lock_guard lock(mu_);
        e = entries_.pop_due(t);
      }
      if (!e) break;
      if (e->due > clock_.now()) clock_.set(e->due);
      e->fire(e->due, clock_.now());
      ++ran;
    }
    clock_.set(t);
    return ran;
  }
  void stop() override {}

 private:
  FakeClock& clock_;
  std::mutex advance_mu_;
};

timespec to_timespec(TimePoint t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  if (ns < 1) ns = 1;  // 0 would disarm the timer
  return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

class RealQueue final : public LockedQueue {
 public:
  explicit RealQueue(const Clock& clock) : clock_(clock) {
    timer_fd_ = ::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (timer_fd_ < 0 || wake_fd_ < 0) {
      // Without them nothing can wait; say so loudly (schedules will not fire) rather than spin.
      spdlog::error("schedules cannot fire: timerfd/eventfd: {}", std::strerror(errno));
      return;
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~RealQueue() override {
    stop();
    if (timer_fd_ >= 0) ::close(timer_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  size_t advance_to(TimePoint) override { return 0; }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // The thread re-arms its timer after every entry it runs: entries it adds itself need no wake-up.
  void added() override {
    if (std::this_thread::get_id() != thread_.get_id()) wake();
  }
  void wake() {
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
  }

  // Arms the timer for `due` (or a year ahead when nothing is queued, to hear of clock jumps all the same).
  void arm(std::optional<TimePoint> due) {
    itimerspec spec{};
    spec.it_value = to_timespec(due.value_or(clock_.now() + std::chrono::hours(24 * 365)));
    if (::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, nullptr) != 0)
      spdlog::error("schedules: timerfd_settime: {}", std::strerror(errno));
  }

  void loop() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        arm(entries_.earliest());
      }
      pollfd fds[2] = {{timer_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
        spdlog::error("schedules: poll: {}", std::strerror(errno));
        return;
      }
      uint64_t n = 0;
      if (fds[1].revents & POLLIN) (void)!::read(wake_fd_, &n, sizeof n);
      if (fds[0].revents & POLLIN) {
        if (::read(timer_fd_, &n, sizeof n) < 0 && errno == ECANCELED) {
          auto now = clock_.now();
          spdlog::info("schedules: the wall clock was set; every schedule's next slot is taken from now");
          std::lock_guard lock(mu_);
          entries_.rebase_all(now);
        }
      }
      run_due();
    }
  }

  void run_due() {
    for (;;) {
      std::optional<Entry> e;
      TimePoint now = clock_.now();
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        e = entries_.pop_due(now);
      }
      if (!e) return;
      e->fire(e->due, now);
    }
  }

  const Clock& clock_;
  int timer_fd_ = -1;
  int wake_fd_ = -1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<TimerQueue> TimerQueue::real(const Clock& clock) { return std::make_unique<RealQueue>(clock); }
std::unique_ptr<TimerQueue> TimerQueue::manual(FakeClock& clock) { return std::make_unique<ManualQueue>(clock); }

}  // namespace gantry::schedule
