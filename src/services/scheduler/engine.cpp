#include "services/scheduler/engine.h"
#include "core/json_members.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>
#include <variant>

#include "schedule/timezone.h"

namespace gantry::scheduler {

namespace json = boost::json;

namespace {

constexpr auto kMaxLateness = std::chrono::seconds(60);


// A timestamp member (epoch seconds, as the documents keep them).
std::optional<TimePoint> date(const json::object& o, std::string_view key) {
  auto seconds = json_members::get_number(o, key);
  return seconds ? std::optional<TimePoint>(from_epoch_seconds(*seconds)) : std::nullopt;
}

// FNV-1a: a stable hash for the flexible window's offset (the same on every start and machine).
uint64_t stable_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
    s.replace(at, what.size(), with);
}

struct Cached {
  Scope scope;
  std::string group;
  std::string name;
  std::string arn;
  std::string timer_key;
  bool enabled = false;
  ScheduleExpression expression;
  schedule::TimeZone zone = schedule::TimeZone::utc();
  TimePoint anchor;
  std::optional<TimePoint> start;
  std::optional<TimePoint> end;
  std::chrono::seconds offset{0};  // the flexible window's
  json::object target;
  events::RetryLimits retry;
  bool delete_after = false;
  std::optional<TimePoint> modified;  // LastModificationDate

  // The first slot strictly after `after`, within StartDate and EndDate.
  std::optional<TimePoint> next_slot(TimePoint after) const {
    std::optional<TimePoint> next;
    if (const auto* at = std::get_if<schedule::At>(&expression.what)) {
      next = schedule::next_in_zone(*at, zone, after);
    } else {
      TimePoint from = after;
      if (start && *start - std::chrono::seconds(1) > from) from = *start - std::chrono::seconds(1);
      next = schedule::next_in_zone(std::get<schedule::Expression>(expression.what), zone, from, anchor);
    }
    if (next && end && *next > *end) return std::nullopt;
    return next;
  }
};
using CachedPtr = std::shared_ptr<const Cached>;

class EngineImpl final : public Engine {
 public:
  EngineImpl(SchedulerStore& store, schedule::TimerQueue& timers, const Clock& clock, Random& random,
             events::Engine& deliveries, std::string zoneinfo_dir)
      : store_(store), timers_(timers), clock_(clock), random_(random), deliveries_(deliveries),
        zoneinfo_dir_(std::move(zoneinfo_dir)) {
    // Shortly before a slot, read every cached schedule (TimerQueue::add_prepare_hook).
    timers_.add_prepare_hook([this](TimePoint) {
      uint64_t sum = 0;
      std::lock_guard lock(mu_);
      for (const auto& [key, c] : cached_) sum += key.size() + c->timer_key.size() + c->target.size() + c->enabled;
      touched_ = sum;
    });
  }

  Status load() override {
    std::vector<Schedule> all;
    GANTRY_RETURN_IF_ERROR(store_.read([&](SchedulerTables& t) -> Result<json::object> {
      all = t.all_schedules();
      return json::object{};
    }));
    for (const auto& s : all) refresh(Scope{s.account, s.region}, s.group, s.name);
    if (!all.empty()) spdlog::info("scheduler: {} schedules loaded", all.size());
    return {};
  }

  void refresh(const Scope& scope, const std::string& group, const std::string& name) override {
    std::lock_guard serial(refresh_mu_);  // two changes in quick succession must not leave the older cached
    std::optional<Schedule> row;
    auto st = store_.read([&](SchedulerTables& t) -> Result<json::object> {
      row = t.find_schedule(scope, group, name);
      return json::object{};
    });
    if (!st) {
      spdlog::error("scheduler: cannot read schedule {}/{}: {}", group, name, st.error().message);
      return;
    }
    const auto key = fmt::format("sched|{}|{}|{}|{}", scope.account, scope.region, group, name);
    if (!row) {
      forget(key);
      return;
    }
    auto c = compile(*row, key);
    if (!c) {
      forget(key);
      return;
    }
    CachedPtr ptr = std::move(c);
    {
      std::lock_guard lock(mu_);
      cached_[key] = ptr;
    }
    if (ptr->enabled) schedule_after(ptr, clock_.now());
    else timers_.cancel(key);
  }

  void forget_group(const Scope& scope, const std::string& group) override {
    std::lock_guard serial(refresh_mu_);
    const auto prefix = fmt::format("sched|{}|{}|{}|", scope.account, scope.region, group);
    std::vector<std::string> keys;
    {
      std::lock_guard lock(mu_);
      for (auto it = cached_.lower_bound(prefix); it != cached_.end() && it->first.starts_with(prefix);) {
        keys.push_back(it->second->timer_key);
        it = cached_.erase(it);
      }
    }
    for (const auto& k : keys) timers_.cancel(k);
  }

  void clear() override {
    std::lock_guard serial(refresh_mu_);
    std::vector<std::string> keys;
    {
      std::lock_guard lock(mu_);
      for (const auto& [_, c] : cached_) keys.push_back(c->timer_key);
      cached_.clear();
    }
    for (const auto& k : keys) timers_.cancel(k);
  }

  EngineStats stats() const override {
    EngineStats s;
    std::vector<std::string> keys;
    {
      std::lock_guard lock(mu_);
      s.schedules = cached_.size();
      for (const auto& [_, c] : cached_) keys.push_back(c->timer_key);
    }
    for (const auto& k : keys) s.pending += timers_.due(k).has_value();
    s.invocations = invocations_.load();
    s.completed = completed_.load();
    s.deleted = deleted_.load();
    return s;
  }

 private:
  std::unique_ptr<Cached> compile(const Schedule& row, const std::string& key) {
    auto c = std::make_unique<Cached>();
    c->scope = Scope{row.account, row.region};
    c->group = row.group;
    c->name = row.name;
    c->arn = json_members::string_or_empty(row.doc, "Arn");
    c->timer_key = key;
    c->enabled = json_members::string_or_empty(row.doc, "State") != "DISABLED";
    auto expression = parse_schedule_expression(json_members::string_or_empty(row.doc, "ScheduleExpression"));
    if (!expression) {
      spdlog::error("scheduler: schedule {} has an expression that no longer parses: {}", c->arn,
                    expression.error().message);
      return nullptr;
    }
    c->expression = std::move(*expression);
    auto zone_name = json_members::string_or_empty(row.doc, "ScheduleExpressionTimezone");
    if (!zone_name.empty() && zone_name != "UTC") {
      auto zone = schedule::TimeZone::load(zone_name, zoneinfo_dir_);
      if (!zone) {
        spdlog::error("scheduler: schedule {}: time zone {}: {}", c->arn, zone_name, zone.error().message);
        return nullptr;
      }
      c->zone = std::move(*zone);
    }
    c->start = date(row.doc, "StartDate");
    c->end = date(row.doc, "EndDate");
    // rate() counts from the StartDate, else from when the schedule was last written.
    c->anchor = c->start ? *c->start
                         : date(row.doc, "LastModificationDate").value_or(store::from_ms(row.created_ms));
    if (auto* w = row.doc.if_contains("FlexibleTimeWindow");
        w && w->is_object() && json_members::string_or_empty(w->as_object(), "Mode") == "FLEXIBLE") {
      int64_t minutes = json_members::get_int(w->as_object(), "MaximumWindowInMinutes").value_or(0);
      if (minutes > 0) c->offset = std::chrono::seconds(stable_hash(c->arn) % static_cast<uint64_t>(minutes * 60));
    }
    if (auto* t = row.doc.if_contains("Target"); t && t->is_object()) c->target = t->as_object();
    c->retry = events::retry_limits(c->target);
    c->delete_after = json_members::string_or_empty(row.doc, "ActionAfterCompletion") == "DELETE";
    c->modified = date(row.doc, "LastModificationDate");
    return c;
  }

  void forget(const std::string& timer_key) {
    {
      std::lock_guard lock(mu_);
      cached_.erase(timer_key);
    }
    timers_.cancel(timer_key);
  }

  // Puts the schedule's first invocation after `after` on the timer queue; a schedule with none left is done.
  void schedule_after(const CachedPtr& c, TimePoint after) {
    // An invocation is its slot plus the offset: look for slots after (after - offset).
    auto slot = c->next_slot(after - c->offset);
    if (!slot) {
      timers_.cancel(c->timer_key);
      return;
    }
    schedule_slot(c, *slot);
  }

  void schedule_slot(const CachedPtr& c, TimePoint slot) {
    std::weak_ptr<const Cached> weak = c;
    timers_.schedule(c->timer_key, slot + c->offset,
                     [this, weak, slot](TimePoint due, TimePoint now) { fire(weak.lock(), slot, due, now); });
  }

  void fire(const CachedPtr& c, TimePoint slot, TimePoint due, TimePoint now) {
    if (!c || !c->enabled) return;
    if (now - due > kMaxLateness) {
      spdlog::warn("scheduler: schedule {} skips its invocation of {} (now {}): missed invocations are not caught "
                   "up",
                   c->arn, iso8601(due), iso8601(now));
    } else {
      deliver(*c, slot);
    }
    // The next slot after this one, or after the present when this one came far too late; unless the schedule
    // changed meanwhile (refresh then scheduled the new one), checked under the cache's lock.
    auto next = c->next_slot(std::max(slot, now - kMaxLateness - c->offset));
    {
      std::lock_guard lock(mu_);
      auto it = cached_.find(c->timer_key);
      if (it == cached_.end() || it->second != c) return;
      if (next) {
        schedule_slot(c, *next);
        return;
      }
    }
    complete(c);
  }

  void deliver(const Cached& c, TimePoint slot) {
    ++invocations_;
    const auto execution = random_.uuid4();
    std::string input = json_members::string_or_empty(c.target, "Input");
    if (input.empty()) input = "{}";
    // Scheduler's context attributes, as it substitutes them in a target's Input.
    replace_all(input, "<aws.scheduler.schedule-arn>", c.arn);
    replace_all(input, "<aws.scheduler.scheduled-time>", events::event_time(slot));
    replace_all(input, "<aws.scheduler.execution-id>", execution);
    replace_all(input, "<aws.scheduler.attempt-number>", "1");
    events::Delivery d;
    d.scope = c.scope;
    d.rule_arn = c.arn;
    d.rule_name = c.name;
    d.event_id = execution;
    d.via = events::Delivery::Via::kSchedule;
    d.target = c.target;
    d.input = std::move(input);
    deliveries_.enqueue(std::move(d), c.retry);
  }

  // The schedule ran its last invocation: with ActionAfterCompletion DELETE it goes (unless it was updated
  // meanwhile: then it is another schedule, which stays).
  void complete(const CachedPtr& c) {
    ++completed_;
    if (!c->delete_after) return;
    std::lock_guard serial(refresh_mu_);
    bool deleted = false;
    auto st = store_.write([&](SchedulerTables& t) -> Result<json::object> {
      auto row = t.find_schedule(c->scope, c->group, c->name);
      if (row && date(row->doc, "LastModificationDate") == c->modified) {
        t.delete_schedule(c->scope, c->group, c->name);
        deleted = true;
      }
      return json::object{};
    });
    if (!st) {
      spdlog::error("scheduler: schedule {} completed but could not be deleted: {}", c->arn, st.error().message);
      return;
    }
    if (!deleted) return;
    ++deleted_;
    spdlog::info("scheduler: schedule {} completed and was deleted (ActionAfterCompletion DELETE)", c->arn);
    std::lock_guard lock(mu_);
    auto it = cached_.find(c->timer_key);
    if (it != cached_.end() && it->second == c) cached_.erase(it);
  }

  SchedulerStore& store_;
  schedule::TimerQueue& timers_;
  const Clock& clock_;
  Random& random_;
  events::Engine& deliveries_;
  std::string zoneinfo_dir_;
  volatile uint64_t touched_ = 0;
  std::mutex refresh_mu_;  // serializes refresh, forget_group, clear and the deletion of completed schedules
  mutable std::mutex mu_;
  std::map<std::string, CachedPtr> cached_;  // by timer key: "sched|account|region|group|name"
  std::atomic<uint64_t> invocations_{0}, completed_{0}, deleted_{0};
};

}  // namespace

std::unique_ptr<Engine> Engine::create(SchedulerStore& store, schedule::TimerQueue& timers, const Clock& clock,
                                       Random& random, events::Engine& deliveries, std::string zoneinfo_dir) {
  return std::make_unique<EngineImpl>(store, timers, clock, random, deliveries, std::move(zoneinfo_dir));
}

}  // namespace gantry::scheduler
