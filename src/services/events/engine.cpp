#include "services/events/engine.h"
#include "core/json_members.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "events/pattern.h"
#include "events/transform.h"
#include "schedule/expression.h"

namespace gantry::events {

namespace json = boost::json;

RetryLimits retry_limits(const json::object& target) {
  RetryLimits limits;
  if (const auto* policy = json_members::get_object(target, "RetryPolicy")) {
    limits.max_retries = static_cast<int>(json_members::get_int(*policy, "MaximumRetryAttempts").value_or(185));
    limits.max_age_seconds =
        static_cast<int>(json_members::get_int(*policy, "MaximumEventAgeInSeconds").value_or(86400));
  }
  return limits;
}

std::string event_time(TimePoint t) {
  auto s = iso8601(std::chrono::time_point_cast<std::chrono::seconds>(t));
  // iso8601 writes milliseconds ("...:05.000Z"); events carry whole seconds.
  if (auto dot = s.find('.'); dot != std::string::npos) s = s.substr(0, dot) + "Z";
  return s;
}

namespace {

// A slot whose time passed more than this before it could fire (the server was busy, suspended or down)
// is skipped, not caught up.
constexpr auto kMaxLateness = std::chrono::seconds(60);

struct CachedTarget {
  Target target;
  TargetInput how;
  RetryLimits retry;
};

struct CachedRule {
  Scope scope;
  std::string bus;
  std::string name;
  std::string arn;
  std::string timer_key;
  std::string bus_key;
  bool enabled = false;
  std::optional<EventPattern> pattern;
  std::optional<schedule::Expression> expression;
  TimePoint anchor;
  std::vector<CachedTarget> targets;
};
using RulePtr = std::shared_ptr<const CachedRule>;

// The rules of one bus, with the enabled pattern rules indexed by the sources they require (most patterns
// name their source), so an event is matched only against the rules that can match it.
struct BusRules {
  std::unordered_map<std::string, RulePtr> by_name;
  std::unordered_map<std::string, std::vector<RulePtr>> by_source;
  std::vector<RulePtr> any_source;  // enabled pattern rules without a fixed set of sources

  void put(const RulePtr& r) {
    auto it = by_name.find(r->name);
    if (it != by_name.end()) unindex(it->second);
    by_name[r->name] = r;
    index(r);
  }
  void erase(const std::string& name) {
    auto it = by_name.find(name);
    if (it == by_name.end()) return;
    unindex(it->second);
    by_name.erase(it);
  }
  template <class Fn>
  void candidates(const boost::json::value& event, Fn&& fn) const {
    for (const auto& r : any_source) fn(r);
    if (by_source.empty() || !event.is_object()) return;
    auto* source = event.as_object().if_contains("source");
    if (source == nullptr || !source->is_string()) return;
    auto it = by_source.find(std::string(source->as_string()));
    if (it != by_source.end())
      for (const auto& r : it->second) fn(r);
  }

 private:
  static bool indexed(const RulePtr& r) { return r->enabled && r->pattern.has_value(); }
  void index(const RulePtr& r) {
    if (!indexed(r)) return;
    if (auto sources = r->pattern->required_strings("source"); sources && !sources->empty()) {
      std::set<std::string> unique(sources->begin(), sources->end());
      for (const auto& src : unique) by_source[src].push_back(r);
    } else {
      any_source.push_back(r);
    }
  }
  void unindex(const RulePtr& r) {
    if (!indexed(r)) return;
    auto drop = [&](std::vector<RulePtr>& v) { std::erase(v, r); };
    if (auto sources = r->pattern->required_strings("source"); sources && !sources->empty()) {
      for (const auto& src : *sources) {
        auto it = by_source.find(src);
        if (it == by_source.end()) continue;
        drop(it->second);
        if (it->second.empty()) by_source.erase(it);
      }
    } else {
      drop(any_source);
    }
  }
};

std::string bus_key(const Scope& scope, std::string_view bus) {
  return fmt::format("{}|{}|{}", scope.account, scope.region, bus);
}
std::string timer_key(const Scope& scope, std::string_view bus, std::string_view rule) {
  return fmt::format("rule|{}|{}|{}|{}", scope.account, scope.region, bus, rule);
}

// A target as the engine uses it; nullopt (logged) when its stored document no longer parses.
std::optional<CachedTarget> compile_target(const Target& t, std::string_view rule_arn) {
  CachedTarget c;
  c.target = t;
  const auto& d = t.doc;
  auto fail = [&](const Error& e) {
    spdlog::error("events: rule {} target {} is skipped: {}", rule_arn, t.id, e.message);
    return std::nullopt;
  };
  auto how = target_input(d, t.id);
  if (!how) return fail(how.error());
  c.how = std::move(*how);
  c.retry = retry_limits(d);
  return c;
}

struct Job {
  Delivery delivery;
  int attempt = 0;  // tries so far
  TimePoint first;  // when the event was first handed over
  RetryLimits retry;
};

class EngineImpl final : public Engine {
 public:
  EngineImpl(EventsStore& store, schedule::TimerQueue& timers, const Clock& clock, Random& random)
      : store_(store), timers_(timers), clock_(clock), random_(random) {
    worker_ = std::thread([this] { work(); });
    timers_.add_prepare_hook([this](TimePoint) { touch_rules(); });
  }
  ~EngineImpl() override { stop(); }

  void set_deliverer(Deliverer* deliverer) override { deliverer_ = deliverer; }

  Status load() override {
    std::vector<Rule> all;
    GANTRY_RETURN_IF_ERROR(store_.read([&](EventsTables& t) -> Result<json::object> {
      all = t.all_rules();
      return json::object{};
    }));
    size_t n = 0;
    for (const auto& r : all) {
      refresh(Scope{r.account, r.region}, r.bus, r.name);
      ++n;
    }
    if (n > 0) spdlog::info("events: {} rules loaded", n);
    return {};
  }

  void refresh(const Scope& scope, const std::string& bus, const std::string& name) override {
    // One refresh at a time: two changes of a rule committed in quick succession must not leave the older in
    // the cache.
    std::lock_guard serial(refresh_mu_);
    std::optional<Rule> rule;
    std::vector<Target> targets;
    auto st = store_.read([&](EventsTables& t) -> Result<json::object> {
      rule = t.find_rule(scope, bus, name);
      if (rule) targets = t.targets(scope, bus, name);
      return json::object{};
    });
    if (!st) {
      spdlog::error("events: cannot read rule {}: {}", name, st.error().message);
      return;
    }
    const auto key = timer_key(scope, bus, name);
    if (!rule) {
      {
        std::unique_lock lock(mu_);
        auto it = rules_.find(bus_key(scope, bus));
        if (it != rules_.end()) it->second.erase(name);
      }
      timers_.cancel(key);
      return;
    }
    auto c = std::make_shared<CachedRule>();
    c->scope = scope;
    c->bus = bus;
    c->name = name;
    c->arn = json_members::string_or_empty(rule->doc, "Arn");
    c->timer_key = key;
    c->bus_key = bus_key(scope, bus);
    c->enabled = json_members::string_or_empty(rule->doc, "State") != "DISABLED";
    c->anchor = store::from_ms(rule->anchor_ms);
    if (auto p = json_members::string_or_empty(rule->doc, "EventPattern"); !p.empty()) {
      auto parsed = EventPattern::parse(p);
      if (parsed) c->pattern = std::move(*parsed);
      else spdlog::error("events: rule {} has a pattern that no longer parses: {}", c->arn, parsed.error().message);
    }
    if (auto e = json_members::string_or_empty(rule->doc, "ScheduleExpression"); !e.empty()) {
      auto parsed = schedule::parse_expression(e);
      if (parsed) c->expression = std::move(*parsed);
      else spdlog::error("events: rule {} has a schedule that no longer parses: {}", c->arn, e);
    }
    for (const auto& t : targets)
      if (auto ct = compile_target(t, c->arn)) c->targets.push_back(std::move(*ct));
    RulePtr ptr = c;
    {
      std::unique_lock lock(mu_);
      rules_[bus_key(scope, bus)].put(ptr);
    }
    if (ptr->enabled && ptr->expression) {
      schedule_next(ptr, clock_.now());
    } else {
      timers_.cancel(key);
    }
  }

  void forget_bus(const Scope& scope, const std::string& bus) override {
    std::lock_guard serial(refresh_mu_);
    std::vector<std::string> names;
    {
      std::unique_lock lock(mu_);
      auto it = rules_.find(bus_key(scope, bus));
      if (it == rules_.end()) return;
      for (const auto& [name, _] : it->second.by_name) names.push_back(name);
      rules_.erase(it);
    }
    for (const auto& n : names) timers_.cancel(timer_key(scope, bus, n));
  }

  void clear() override {
    std::lock_guard serial(refresh_mu_);
    std::vector<std::string> keys;
    {
      std::unique_lock lock(mu_);
      for (const auto& [_, rules] : rules_)
        for (const auto& [name, r] : rules.by_name) keys.push_back(timer_key(r->scope, r->bus, name));
      rules_.clear();
    }
    for (const auto& k : keys) timers_.cancel(k);
    std::lock_guard lock(jobs_mu_);
    jobs_.clear();
    for (const auto& k : retry_keys_) timers_.cancel(k);
    retry_keys_.clear();
  }

  size_t publish(const Scope& scope, const std::string& bus, const json::value& as_value) override {
    std::vector<RulePtr> matched;
    {
      std::shared_lock lock(mu_);
      auto it = rules_.find(bus_key(scope, bus));
      if (it != rules_.end())
        it->second.candidates(as_value, [&](const RulePtr& r) {
          if (r->pattern->matches(as_value)) matched.push_back(r);
        });
    }
    for (const auto& r : matched) deliver_to_targets(*r, as_value);
    return matched.size();
  }

  std::string new_event_id() override { return random_.uuid4(); }

  void enqueue(Delivery delivery, RetryLimits retry) override {
    std::lock_guard lock(jobs_mu_);
    jobs_.push_back(Job{std::move(delivery), 0, clock_.now(), retry});
    jobs_cv_.notify_one();
  }

  EngineStats stats() const override {
    EngineStats s;
    {
      std::shared_lock lock(mu_);
      for (const auto& [_, rules] : rules_) {
        s.rules += rules.by_name.size();
        for (const auto& [name, r] : rules.by_name) s.scheduled += r->enabled && r->expression ? 1 : 0;
      }
    }
    s.matched = matched_.load();
    s.delivered = delivered_.load();
    s.failed = failed_.load();
    s.dropped = dropped_.load();
    std::lock_guard lock(jobs_mu_);
    s.retries_pending = retry_keys_.size();
    s.queued = jobs_.size() + (busy_ ? 1 : 0);
    std::vector<int64_t> late;
    {
      std::lock_guard late_lock(late_mu_);
      late = lateness_;
      s.firings = firings_;
    }
    if (!late.empty()) {
      std::sort(late.begin(), late.end());
      auto pick = [&](double q) { return late[std::min(late.size() - 1, static_cast<size_t>(q * late.size()))]; };
      s.late_p50_us = pick(0.50);
      s.late_p99_us = pick(0.99);
      s.late_max_us = late.back();
    }
    return s;
  }

  bool drain(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(jobs_mu_);
    return idle_cv_.wait_for(lock, timeout, [&] { return jobs_.empty() && !busy_; });
  }

  void stop() override {
    {
      std::lock_guard lock(jobs_mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    jobs_cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

 private:
  // Puts the rule's next slot after `after` on the timer queue.
  void schedule_next(const RulePtr& r, TimePoint after) {
    auto next = schedule::next_after(*r->expression, after, r->anchor);
    if (!next) {
      timers_.cancel(r->timer_key);
      return;
    }
    std::weak_ptr<const CachedRule> weak = r;
    timers_.schedule(
        r->timer_key, *next, [this, weak](TimePoint due, TimePoint now) { fire(weak.lock(), due, now); },
        [weak](TimePoint now) -> std::optional<TimePoint> {
          auto rule = weak.lock();
          if (!rule || !rule->expression) return std::nullopt;
          return schedule::next_after(*rule->expression, now, rule->anchor);
        });
  }

  // Reads every cached rule, shortly before a slot (TimerQueue::add_prepare_hook).
  void touch_rules() const {
    uint64_t sum = 0;
    std::shared_lock lock(mu_);
    for (const auto& [_, bus] : rules_)
      for (const auto& [name, r] : bus.by_name)
        sum += name.size() + r->timer_key.size() + r->targets.size() + (r->expression ? 1 : 0) + r->enabled;
    touched_ = sum;
  }

  // Schedules the next slot of `r` unless the rule changed meanwhile (refresh then scheduled the new one):
  // checked and scheduled under the cache's lock, which refresh takes to replace the rule.
  void reschedule_if_current(const RulePtr& r, TimePoint after) {
    std::shared_lock lock(mu_);
    auto it = rules_.find(r->bus_key);
    if (it == rules_.end()) return;
    auto jt = it->second.by_name.find(r->name);
    if (jt == it->second.by_name.end() || jt->second != r) return;
    schedule_next(r, after);
  }

  // `r` is the rule as cached when its slot was scheduled: a change since replaced the entry (refresh), so
  // a rule that is gone or changed never fires from here.
  void fire(const RulePtr& r, TimePoint due, TimePoint now) {
    if (!r || !r->enabled || !r->expression) return;
    const Scope& scope = r->scope;
    record_lateness(now - due);
    if (now - due > kMaxLateness) {
      spdlog::warn("events: rule {} skips its slot of {} (now {}): slots missed are not caught up", r->arn,
                   event_time(due), event_time(now));
      reschedule_if_current(r, now);
      return;
    }
    if (r->targets.empty()) {  // nothing to deliver to: the slot passes, counted
      ++matched_;
      reschedule_if_current(r, std::max(due, now - kMaxLateness));
      return;
    }
    json::object event{{"version", "0"},
                       {"id", new_event_id()},
                       {"detail-type", "Scheduled Event"},
                       {"source", "aws.events"},
                       {"account", scope.account},
                       {"time", event_time(due)},
                       {"region", scope.region},
                       {"resources", json::array{json::value(r->arn)}},
                       {"detail", json::object{}}};
    deliver_to_targets(*r, json::value(std::move(event)));
    reschedule_if_current(r, std::max(due, now - kMaxLateness));
  }

  void record_lateness(TimePoint::duration late) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(late).count();
    std::lock_guard lock(late_mu_);
    if (lateness_.size() < kLatenessWindow) lateness_.push_back(us);
    else lateness_[firings_ % kLatenessWindow] = us;
    ++firings_;
  }

  void deliver_to_targets(const CachedRule& r, const json::value& event) {
    ++matched_;
    if (r.targets.empty()) return;
    RuleInfo info{r.arn, r.name, event_time(clock_.now())};
    const std::string event_id = json_members::string_or_empty(event.as_object(), "id");
    for (const auto& t : r.targets) {
      auto input = render(t.how, event, info);
      if (!input) {
        ++failed_;
        ++dropped_;
        spdlog::warn("events: rule {} target {}: the input could not be made: {}", r.arn, t.target.id,
                     input.error().message);
        continue;
      }
      enqueue(Delivery{r.scope, r.arn, r.name, event_id, Delivery::Via::kRule, t.target.doc, std::move(*input)},
              t.retry);
    }
  }

  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(jobs_mu_);
        jobs_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        busy_ = true;
      }
      run(std::move(job));
      {
        std::lock_guard lock(jobs_mu_);
        busy_ = false;
        if (jobs_.empty()) idle_cv_.notify_all();
      }
    }
  }

  void run(Job job) {
    DeliveryOutcome out;
    Deliverer* deliverer = deliverer_.load();
    if (deliverer == nullptr) {
      out = DeliveryOutcome{false, false, "no deliverer"};
    } else {
      try {
        out = deliverer->deliver(job.delivery);
      } catch (const std::exception& e) {
        out = DeliveryOutcome{false, false, std::string("delivery failed: ") + e.what()};
      }
    }
    ++job.attempt;
    const std::string target_id = json_members::string_or_empty(job.delivery.target, "Id");
    if (out.ok) {
      ++delivered_;
      return;
    }
    ++failed_;
    const auto now = clock_.now();
    // Exponential backoff: 1 s, 2 s, 4 s, ... up to 5 minutes between tries.
    auto delay = std::chrono::seconds(std::min<int64_t>(300, int64_t{1} << std::min(job.attempt - 1, 9)));
    bool again = out.retryable && job.attempt <= job.retry.max_retries &&
                 now + delay - job.first <= std::chrono::seconds(job.retry.max_age_seconds);
    if (!again) {
      ++dropped_;
      spdlog::warn("events: rule {} target {} ({}): delivery of event {} failed{}: {}", job.delivery.rule_arn,
                   target_id, json_members::string_or_empty(job.delivery.target, "Arn"), job.delivery.event_id,
                   out.retryable ? fmt::format(" after {} attempts", job.attempt) : "", out.message);
      return;
    }
    spdlog::info("events: rule {} target {}: attempt {} failed, retrying in {} s: {}", job.delivery.rule_arn,
                 target_id, job.attempt, delay.count(), out.message);
    const auto key = fmt::format("retry|{}|{}|{}|{}", job.delivery.event_id, job.delivery.rule_arn, target_id,
                                 job.attempt);
    {
      std::lock_guard lock(jobs_mu_);
      retry_keys_.insert(key);
    }
    auto shared = std::make_shared<Job>(std::move(job));
    timers_.schedule(key, now + delay, [this, key, shared](TimePoint, TimePoint) {
      std::lock_guard lock(jobs_mu_);
      if (retry_keys_.erase(key) == 0) return;  // cleared meanwhile
      jobs_.push_back(std::move(*shared));
      jobs_cv_.notify_one();
    });
  }

  EventsStore& store_;
  schedule::TimerQueue& timers_;
  const Clock& clock_;
  Random& random_;
  std::atomic<Deliverer*> deliverer_{nullptr};

  mutable volatile uint64_t touched_ = 0;
  std::mutex refresh_mu_;  // serializes refresh, forget_bus and clear
  mutable std::shared_mutex mu_;
  std::map<std::string, BusRules> rules_;  // by bus key

  mutable std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::condition_variable idle_cv_;
  std::deque<Job> jobs_;
  std::set<std::string> retry_keys_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread worker_;

  std::atomic<uint64_t> matched_{0}, delivered_{0}, failed_{0}, dropped_{0};
  static constexpr size_t kLatenessWindow = 16384;
  mutable std::mutex late_mu_;
  std::vector<int64_t> lateness_;
  uint64_t firings_ = 0;
};

}  // namespace

std::unique_ptr<Engine> Engine::create(EventsStore& store, schedule::TimerQueue& timers, const Clock& clock,
                                       Random& random) {
  return std::make_unique<EngineImpl>(store, timers, clock, random);
}

}  // namespace gantry::events
