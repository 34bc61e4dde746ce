#include "schedule/timer_queue.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <unordered_map>
#include <mutex>
#include <poll.h>
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

// The entries: a hash map by key (nodes stay put, and are reused when a key is scheduled again, as a recurring
// entry is after every slot) and a binary min-heap of (due, sequence) in one vector, with lazy deletion: a heap
// item whose sequence is no longer its entry's is stale and skipped. Cheap on the hot path — firing 10,000
// entries due in the same second touches a contiguous heap and one node per entry, not a tree of scattered
// nodes per entry.
class Entries {
 public:
  void put(const std::string& key, TimePoint due, TimerQueue::Fire fire, TimerQueue::Rebase rebase) {
    Node& n = by_key_[key];
    if (!n.live) {
      n.live = true;
      ++live_;
    }
    n.entry = Entry{due, std::move(fire), std::move(rebase)};
    n.seq = ++next_seq_;
    push(n);
    compact_if_needed();
  }
  void remove(const std::string& key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end() || !it->second.live) return;
    kill(it->second);
    compact_if_needed();
  }
  std::optional<TimePoint> due(const std::string& key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() || !it->second.live ? std::nullopt : std::optional<TimePoint>(it->second.entry.due);
  }
  std::optional<TimePoint> earliest() {
    drop_stale_top();
    return heap_.empty() ? std::nullopt : std::optional<TimePoint>(heap_.front().due);
  }
  // Removes and returns the earliest entry when it is due at or before `t`.
  std::optional<Entry> pop_due(TimePoint t) {
    drop_stale_top();
    if (heap_.empty() || heap_.front().due > t) return std::nullopt;
    Node& n = *heap_.front().node;
    pop_top();
    Entry e = std::move(n.entry);
    kill(n);
    return e;
  }
  // Every entry with a rebase function gets its due time from `now` (or goes).
  void rebase_all(TimePoint now) {
    for (auto& [key, n] : by_key_) {
      if (!n.live || !n.entry.rebase) continue;
      auto next = n.entry.rebase(now);
      if (!next) {
        kill(n);
        continue;
      }
      n.entry.due = *next;
      n.seq = ++next_seq_;
    }
    rebuild();
  }
  size_t size() const { return live_; }

  // Reads the nodes of the live entries due at or before `t` (to bring their memory in).
  void touch_due_by(TimePoint t) const {
    uint64_t sum = 0;
    for (const auto& i : heap_)
      if (i.due <= t && i.node->live) sum += i.node->seq + static_cast<uint64_t>(static_cast<bool>(i.node->entry.fire));
    touched_ = sum;
  }

 private:
  struct Node {
    Entry entry;
    uint64_t seq = 0;  // the heap item with this sequence is the live one
    bool live = false;
  };
  struct Item {
    TimePoint due;
    uint64_t seq;
    Node* node;
    // The heap is a max-heap by this order: the earliest (due, seq) on top.
    bool operator<(const Item& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };

  void kill(Node& n) {
    n.live = false;
    n.entry.fire = nullptr;
    n.entry.rebase = nullptr;
    --live_;
  }
  void push(Node& n) {
    heap_.push_back(Item{n.entry.due, n.seq, &n});
    std::push_heap(heap_.begin(), heap_.end());
  }
  void pop_top() {
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.pop_back();
  }
  bool stale(const Item& i) const { return !i.node->live || i.node->seq != i.seq; }
  void drop_stale_top() {
    while (!heap_.empty() && stale(heap_.front())) pop_top();
  }
  // Stale items and dead nodes are dropped once they outnumber the live ones.
  void compact_if_needed() {
    if (heap_.size() > 2 * live_ + 1024 || by_key_.size() > 2 * live_ + 1024) rebuild();
  }
  void rebuild() {
    heap_.clear();
    for (auto it = by_key_.begin(); it != by_key_.end();) {
      Node& n = it->second;
      if (!n.live) {
        it = by_key_.erase(it);
        continue;
      }
      heap_.push_back(Item{n.entry.due, n.seq, &n});
      ++it;
    }
    std::make_heap(heap_.begin(), heap_.end());
  }

  std::unordered_map<std::string, Node> by_key_;
  std::vector<Item> heap_;
  uint64_t next_seq_ = 0;
  size_t live_ = 0;
  mutable volatile uint64_t touched_ = 0;  // keeps touch_due_by's reads
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

  size_t advance_to(TimePoint t, size_t max_runs) override {
    std::lock_guard serial(advance_mu_);
    if (t < clock_.now()) {
      clock_.set(t);
      std::lock_guard lock(mu_);
      entries_.rebase_all(t);
      return 0;
    }
    size_t ran = 0;
    for (;;) {
      if (ran == max_runs) return ran;  // the clock stays at the last entry's time
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
  void add_prepare_hook(PrepareHook) override {}

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

  size_t advance_to(TimePoint, size_t) override { return 0; }

  void add_prepare_hook(PrepareHook hook) override {
    std::lock_guard lock(mu_);
    hooks_.push_back(std::move(hook));
  }

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
    if (std::this_thread::get_id() != thread_id_.load()) wake();
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
    thread_id_ = std::this_thread::get_id();
    for (;;) {
      bool prepare = false;
      std::optional<TimePoint> earliest;
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        earliest = entries_.earliest();
        // Wake kPrepareLead before a slot to warm what firing it touches (see add_prepare_hook), once per slot.
        auto now = clock_.now();
        if (earliest && *earliest != prepared_for_ && *earliest - now > kPrepareLead) {
          arm(*earliest - kPrepareLead);
          prepare = true;
        } else {
          arm(earliest);
        }
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
      if (prepare && earliest && clock_.now() >= *earliest - kPrepareLead && clock_.now() < *earliest) {
        prepared_for_ = *earliest;
        warm(*earliest);
      }
      run_due();
    }
  }

  // Reads what firing the entries due up to a second after `slot` will touch: the queue's own nodes and each
  // hook's data. Memory a host paged out while the server idled comes back before the slot, not during it.
  void warm(TimePoint slot) {
    std::vector<PrepareHook> hooks;
    {
      std::lock_guard lock(mu_);
      entries_.touch_due_by(slot + std::chrono::seconds(1));
      hooks = hooks_;
    }
    for (const auto& h : hooks) h(slot);
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
  std::atomic<std::thread::id> thread_id_{};
  static constexpr auto kPrepareLead = std::chrono::milliseconds(200);
  std::optional<TimePoint> prepared_for_;  // the timer thread's own
  std::vector<PrepareHook> hooks_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<TimerQueue> TimerQueue::real(const Clock& clock) { return std::make_unique<RealQueue>(clock); }
std::unique_ptr<TimerQueue> TimerQueue::manual(FakeClock& clock) { return std::make_unique<ManualQueue>(clock); }

}  // namespace gantry::schedule
