// PutEvents matching cost (Google Benchmark): 1,000 enabled rules with mixed patterns on one bus, as the
// Engine holds them (rules indexed by the sources their patterns require), against a stream of events, on
// one thread. Baseline in the same run: every rule's pattern tried against every event (no index).
//
// The rules: 50 sources ("app.0" .. "app.49") with 19 rules each, each rule using one of the operators
// (exact detail-type, prefix, suffix, anything-but, numeric range, exists, equals-ignore-case, wildcard,
// cidr, $or, nested arrays of objects), and 50 rules naming no source (prefix on detail-type, numeric on a
// detail field). Setup checks the engine and the naive scan agree on how many rules each event matches, so
// the two numbers measure the same work. See bench/events/README.md; bench/events/run writes the table.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "events/pattern.h"
#include "schedule/timer_queue.h"
#include "services/events/engine.h"
#include "services/events/model.h"
#include "store/database.h"

namespace {

namespace json = boost::json;
using namespace gantry;

constexpr int kSources = 50;
constexpr int kRulesPerSource = 19;
constexpr int kAnySourceRules = 50;

std::string pattern_for(int source, int k) {
  std::string src = "\"source\": [\"app." + std::to_string(source) + "\"]";
  std::string n = std::to_string(k);
  switch (k % 10) {
    case 0: return "{" + src + ", \"detail-type\": [\"Order Placed " + n + "\"]}";
    case 1: return "{" + src + ", \"detail\": {\"sku\": [{\"prefix\": \"SKU-" + n + "\"}]}}";
    case 2: return "{" + src + ", \"detail\": {\"file\": [{\"suffix\": \"." + n + ".csv\"}]}}";
    case 3: return "{" + src + ", \"detail\": {\"state\": [{\"anything-but\": [\"ok\", \"done\", \"s" + n + "\"]}]}}";
    case 4: return "{" + src + ", \"detail\": {\"total\": [{\"numeric\": [\">\", " + n + ", \"<=\", " +
                   std::to_string(k * 10 + 100) + "]}]}}";
    case 5: return "{" + src + ", \"detail\": {\"error\": [{\"exists\": true}], \"code\": [" + n + "]}}";
    case 6: return "{" + src + ", \"detail\": {\"region\": [{\"equals-ignore-case\": \"EU-WEST-" + n + "\"}]}}";
    case 7: return "{" + src + ", \"detail\": {\"path\": [{\"wildcard\": \"/data/" + n + "/*.json\"}]}}";
    case 8: return "{" + src + ", \"detail\": {\"ip\": [{\"cidr\": \"10." + n + ".0.0/16\"}]}}";
    default:
      return "{" + src + ", \"$or\": [{\"detail\": {\"level\": [\"ERROR\"]}}, {\"detail\": {\"containers\": "
             "{\"exitCode\": [{\"numeric\": [\">\", 0]}]}}}]}";
  }
}

std::string any_source_pattern(int k) {
  if (k % 2 == 0) return "{\"detail-type\": [{\"prefix\": \"Audit " + std::to_string(k) + "\"}]}";
  return "{\"detail\": {\"amount\": [{\"numeric\": [\">=\", " + std::to_string(k * 1000) + "]}]}}";
}

json::value make_event(int i) {
  int source = i % (kSources + 10);  // some events come from sources no rule names
  int k = i % kRulesPerSource;
  json::object detail{{"sku", "SKU-" + std::to_string(k) + "-x"},
                      {"file", "in/" + std::to_string(i) + "." + std::to_string(k) + ".csv"},
                      {"state", i % 3 == 0 ? "ok" : "failed"},
                      {"total", (i * 37) % 400},
                      {"region", "eu-west-" + std::to_string(k)},
                      {"path", "/data/" + std::to_string(k) + "/part-" + std::to_string(i) + ".json"},
                      {"ip", "10." + std::to_string(k) + ".3." + std::to_string(i % 250)},
                      {"level", i % 5 == 0 ? "ERROR" : "INFO"},
                      {"amount", (i * 7919) % 60000},
                      {"containers", json::array{json::object{{"name", "app"}, {"exitCode", i % 4}}}}};
  if (i % 6 == 0) detail["error"] = "boom";
  if (i % 4 == 1) detail["code"] = k;
  return json::object{{"version", "0"},
                      {"id", "00000000-0000-4000-8000-" + std::to_string(100000000000 + i)},
                      {"detail-type", i % 7 == 0 ? "Audit " + std::to_string(i % 50) : "Order Placed " + std::to_string(k)},
                      {"source", "app." + std::to_string(source)},
                      {"account", "000000000000"},
                      {"time", "2026-11-28T08:00:00Z"},
                      {"region", "us-east-1"},
                      {"resources", json::array{}},
                      {"detail", std::move(detail)}};
}

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<events::EventsStore> store;
  FakeClock clock{TimePoint(std::chrono::seconds(1800000000))};
  SystemRandom random;
  std::unique_ptr<schedule::TimerQueue> timers;
  std::unique_ptr<events::Engine> engine;
  std::vector<events::EventPattern> patterns;  // the baseline's
  std::vector<json::value> events;

  Fixture() {
    spdlog::set_level(spdlog::level::warn);  // stdout carries the benchmark's JSON
    dir = std::filesystem::temp_directory_path() / ("gantry-bench-events-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto opened = store::Database::open((dir / "bench.db").string(), events::sqlite_migrations());
    if (!opened) fail("open store: " + opened.error().message);
    db = std::move(*opened);
    store = events::make_sqlite_store(*db);
    timers = schedule::TimerQueue::manual(clock);
    engine = events::Engine::create(*store, *timers, clock, random);
    const Scope scope{"000000000000", "us-east-1"};
    std::vector<std::string> texts;
    for (int s = 0; s < kSources; ++s)
      for (int k = 0; k < kRulesPerSource; ++k) texts.push_back(pattern_for(s, k));
    for (int k = 0; k < kAnySourceRules; ++k) texts.push_back(any_source_pattern(k));
    auto st = store->write([&](events::EventsTables& t) -> Result<json::object> {
      for (size_t i = 0; i < texts.size(); ++i) {
        events::Rule r{scope.account, scope.region, "default", "rule-" + std::to_string(i), {}, 0, 0};
        r.doc = json::object{{"Name", r.name}, {"Arn", "arn:aws:events:us-east-1:000000000000:rule/" + r.name},
                             {"EventPattern", texts[i]}, {"State", "ENABLED"}};
        t.put_rule(r);
      }
      return json::object{};
    });
    if (!st) fail("store rules: " + st.error().message);
    if (auto loaded = engine->load(); !loaded) fail("load: " + loaded.error().message);
    for (const auto& t : texts) {
      auto p = events::EventPattern::parse(t);
      if (!p) fail("pattern " + t + ": " + p.error().message);
      patterns.push_back(std::move(*p));
    }
    for (int i = 0; i < 1024; ++i) events.push_back(make_event(i));
    // The engine and the naive scan must agree, event by event, and some events must match.
    size_t total = 0;
    for (const auto& e : events) {
      size_t naive = 0;
      for (const auto& p : patterns) naive += p.matches(e);
      size_t indexed = engine->publish(scope, "default", e);
      if (naive != indexed) fail("engine and naive scan disagree on " + json::serialize(e));
      total += naive;
    }
    if (total == 0) fail("no event matched any rule");
    std::fprintf(stderr, "setup: %zu rules, %zu events, %zu matches in all (%.2f per event)\n", patterns.size(),
                 events.size(), total, static_cast<double>(total) / static_cast<double>(events.size()));
  }
  ~Fixture() {
    engine->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  [[noreturn]] static void fail(const std::string& why) {
    std::fprintf(stderr, "bench setup failed: %s\n", why.c_str());
    std::exit(1);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_EnginePublish(benchmark::State& state) {
  auto& f = fixture();
  const Scope scope{"000000000000", "us-east-1"};
  size_t i = 0, matched = 0;
  for (auto _ : state) {
    matched += f.engine->publish(scope, "default", f.events[i++ & 1023]);
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnginePublish);

void BM_NaiveScanBaseline(benchmark::State& state) {
  auto& f = fixture();
  size_t i = 0, matched = 0;
  for (auto _ : state) {
    const auto& e = f.events[i++ & 1023];
    for (const auto& p : f.patterns) matched += p.matches(e);
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NaiveScanBaseline);

// The scheduler's cost per firing: 10,000 enabled rules cron(* * * * ? *) without targets on a manual clock; each
// iteration moves the clock one minute, firing every rule once (items = firings).
void BM_FireMinuteOf10kRules(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);
  auto dir = std::filesystem::temp_directory_path() / ("gantry-bench-fire-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto db = store::Database::open((dir / "fire.db").string(), events::sqlite_migrations());
  if (!db) Fixture::fail("open store: " + db.error().message);
  auto store = events::make_sqlite_store(**db);
  FakeClock clock{TimePoint(std::chrono::seconds(1800000000))};
  SystemRandom random;
  auto timers = schedule::TimerQueue::manual(clock);
  auto engine = events::Engine::create(*store, *timers, clock, random);
  constexpr int kRules = 10000;
  auto st = store->write([&](events::EventsTables& t) -> Result<json::object> {
    for (int i = 0; i < kRules; ++i) {
      events::Rule r{"000000000000", "us-east-1", "default", "r" + std::to_string(i), {}, 0, 0};
      r.doc = json::object{{"Name", r.name}, {"Arn", "arn:aws:events:us-east-1:000000000000:rule/" + r.name},
                           {"ScheduleExpression", "cron(* * * * ? *)"}, {"State", "ENABLED"}};
      t.put_rule(r);
    }
    return json::object{};
  });
  if (!st) Fixture::fail("store rules: " + st.error().message);
  if (auto loaded = engine->load(); !loaded) Fixture::fail("load: " + loaded.error().message);
  size_t fired = 0;
  for (auto _ : state) fired += timers->advance_to(clock.now() + std::chrono::minutes(1));
  if (fired != static_cast<size_t>(state.iterations()) * kRules) Fixture::fail("not every rule fired each minute");
  state.SetItemsProcessed(static_cast<int64_t>(fired));
  engine->stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_FireMinuteOf10kRules)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
