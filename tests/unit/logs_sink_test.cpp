// The Sink other modules append through, and GetLogEvents' token walk over what it stored.
#include <gtest/gtest.h>

#include "services/logs/handlers.h"
#include "services/logs/sink.h"

namespace gantry::logs {
namespace {

namespace json = boost::json;

class LogsSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(":memory:", sqlite_migrations());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db.value());
    store_ = make_sqlite_store(*db_);
    sink_ = make_sink(*store_, clock_);
  }

  Ctx ctx(const Scope& scope) {
    Ctx c;
    c.scope = scope;
    c.now = clock_.now();
    return c;
  }

  // GetLogEvents as the API serves it.
  json::object get(const Scope& scope, json::object in) {
    auto c = ctx(scope);
    auto out = get_log_events(*store_, c, in);
    EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
    return out.ok() ? *out : json::object{};
  }

  static std::vector<std::string> messages(const json::object& out) {
    std::vector<std::string> m;
    for (const auto& e : out.at("events").as_array()) m.emplace_back(e.at("message").as_string());
    return m;
  }

  FakeClock clock_{TimePoint(std::chrono::milliseconds(1'700'000'000'000))};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<LogsStore> store_;
  std::unique_ptr<Sink> sink_;
  Scope east_{"000000000000", "us-east-1"};
  Scope west_{"000000000000", "us-west-2"};
};

TEST_F(LogsSinkTest, MissingGroupOrStreamIsAnErrorUnlessCreated) {
  auto st = sink_->append(east_, "/ecs/app", "web/c/1", {{1, "a"}}, false, true);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kLogsResourceNotFound);
  EXPECT_NE(st.error().message.find("log group"), std::string::npos);

  ASSERT_TRUE(sink_->append(east_, "/ecs/app", "web/c/1", {}, true, true).ok());
  st = sink_->append(east_, "/ecs/app", "web/c/2", {{1, "a"}}, false, false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kLogsResourceNotFound);
  EXPECT_NE(st.error().message.find("log stream"), std::string::npos);

  auto streams = store_->read([&](LogsTables& t) -> Result<json::object> {
    StreamFilter f;
    return json::object{{"n", t.list_streams(east_, "/ecs/app", f).size()}};
  });
  ASSERT_TRUE(streams.ok());
  EXPECT_EQ(streams->at("n").as_uint64(), 1u) << "a failed append creates nothing";
}

TEST_F(LogsSinkTest, BadNamesAreRejected) {
  EXPECT_EQ(sink_->append(east_, "bad name", "s", {{1, "a"}}, true, true).error().kind,
            ErrorKind::kLogsInvalidParameter);
  EXPECT_EQ(sink_->append(east_, "g", "s:1", {{1, "a"}}, true, true).error().kind, ErrorKind::kLogsInvalidParameter);
  EXPECT_EQ(sink_->append(east_, "aws/x", "s", {{1, "a"}}, true, true).error().kind, ErrorKind::kLogsInvalidParameter);
}

TEST_F(LogsSinkTest, SortsDropsEmptyAndKeepsStreamStatistics) {
  ASSERT_TRUE(
      sink_->append(east_, "g", "s", {{30, "third"}, {10, "first"}, {20, ""}, {10, "second"}}, true, true).ok());
  auto out = get(east_, {{"logGroupName", "g"}, {"logStreamName", "s"}, {"startFromHead", true}});
  EXPECT_EQ(messages(out), (std::vector<std::string>{"first", "second", "third"}));
  for (const auto& e : out.at("events").as_array()) EXPECT_EQ(e.at("ingestionTime").as_int64(), 1'700'000'000'000);
  auto s = store_->read([&](LogsTables& t) -> Result<json::object> {
    auto st = t.find_stream(east_, "g", "s");
    return json::object{{"first", *st->first_event_ms}, {"last", *st->last_event_ms}, {"bytes", st->stored_bytes}};
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->at("first").as_int64(), 10);
  EXPECT_EQ(s->at("last").as_int64(), 30);
  EXPECT_EQ(s->at("bytes").as_int64(), 5 + 6 + 5);
}

TEST_F(LogsSinkTest, ScopesAreIsolated) {
  ASSERT_TRUE(sink_->append(east_, "g", "s", {{1, "east"}}, true, true).ok());
  ASSERT_FALSE(sink_->append(west_, "g", "s", {{1, "west"}}, false, false).ok());
  ASSERT_TRUE(sink_->append(west_, "g", "s", {{1, "west"}}, true, true).ok());
  EXPECT_EQ(messages(get(east_, {{"logGroupName", "g"}, {"logStreamName", "s"}})), std::vector<std::string>{"east"});
  EXPECT_EQ(messages(get(west_, {{"logGroupName", "g"}, {"logStreamName", "s"}})), std::vector<std::string>{"west"});
}

TEST_F(LogsSinkTest, ForwardAndBackwardTokensWalkToTheEnd) {
  std::vector<Event> events;
  for (int i = 0; i < 7; ++i) events.push_back({1000 + i, "m" + std::to_string(i)});
  ASSERT_TRUE(sink_->append(east_, "g", "s", events, true, true).ok());

  // Without a token and startFromHead false: the latest page.
  auto last = get(east_, {{"logGroupName", "g"}, {"logStreamName", "s"}, {"limit", 3}});
  EXPECT_EQ(messages(last), (std::vector<std::string>{"m4", "m5", "m6"}));

  // Forward from the head in pages of 3, until the same token comes back.
  std::vector<std::string> seen;
  json::object out = get(east_, {{"logGroupName", "g"}, {"logStreamName", "s"}, {"limit", 3}, {"startFromHead", true}});
  std::string token;
  for (int pages = 0; pages < 10; ++pages) {
    for (auto& m : messages(out)) seen.push_back(m);
    std::string next(out.at("nextForwardToken").as_string());
    ASSERT_EQ(next.substr(0, 2), "f/");
    if (next == token) break;
    token = next;
    out = get(east_, {{"logGroupName", "g"}, {"logStreamName", "s"}, {"limit", 3}, {"nextToken", token}});
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5", "m6"}));
  EXPECT_TRUE(out.at("events").as_array().empty());

  // A new event shows up behind the end token.
  ASSERT_TRUE(sink_->append(east_, "g", "s", {{2000, "late"}}, false, false).ok());
  out = get(east_, {{"logGroupName", "g"}, {"logStreamName", "s"}, {"nextToken", token}});
  EXPECT_EQ(messages(out), std::vector<std::string>{"late"});

  // Backward from the latest page, until the same token comes back.
  seen.clear();
  out = get(east_, {{"logGroupName", "g"}, {"logStreamName", "s"}, {"limit", 3}});
  token.clear();
  for (int pages = 0; pages < 10; ++pages) {
    auto page = messages(out);
    seen.insert(seen.begin(), page.begin(), page.end());
    std::string next(out.at("nextBackwardToken").as_string());
    ASSERT_EQ(next.substr(0, 2), "b/");
    if (next == token) break;
    token = next;
    out = get(east_, {{"logGroupName", "g"}, {"logStreamName", "s"}, {"limit", 3}, {"nextToken", token}});
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "late"}));
}

TEST_F(LogsSinkTest, TimeRangeAndBadToken) {
  std::vector<Event> events;
  for (int i = 0; i < 5; ++i) events.push_back({100 * i, "t" + std::to_string(100 * i)});
  ASSERT_TRUE(sink_->append(east_, "g", "s", events, true, true).ok());
  auto out = get(
      east_,
      {{"logGroupName", "g"}, {"logStreamName", "s"}, {"startTime", 100}, {"endTime", 300}, {"startFromHead", true}});
  EXPECT_EQ(messages(out), (std::vector<std::string>{"t100", "t200"}));

  auto c = ctx(east_);
  json::object in{{"logGroupName", "g"}, {"logStreamName", "s"}, {"nextToken", "f/nope"}};
  auto bad = get_log_events(*store_, c, in);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kLogsInvalidParameter);
}

}  // namespace
}  // namespace gantry::logs
