// EventBridge Scheduler's SQLite tables: a schedule and a group round-trip; listings filter by group, name
// prefix and state and page by (group, name); deleting a group takes its schedules; tags keep their order.
#include <gtest/gtest.h>

#include "services/scheduler/model.h"

namespace gantry::scheduler {
namespace {

namespace json = boost::json;

class SchedulerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(":memory:", sqlite_migrations());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db.value());
    store_ = make_sqlite_store(*db_);
  }

  void write(const std::function<void(SchedulerTables&)>& fn) {
    auto r = store_->write([&](SchedulerTables& t) -> Result<json::object> {
      fn(t);
      return json::object{};
    });
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  template <class T>
  T read(const std::function<T(SchedulerTables&)>& fn) {
    T out{};
    auto r = store_->read([&](SchedulerTables& t) -> Result<json::object> {
      out = fn(t);
      return json::object{};
    });
    EXPECT_TRUE(r.ok()) << r.error().message;
    return out;
  }

  Schedule schedule(const std::string& group, const std::string& name, const std::string& state = "ENABLED") {
    Schedule s;
    s.account = scope_.account;
    s.region = scope_.region;
    s.group = group;
    s.name = name;
    s.created_ms = 1700000000123;
    s.doc = json::object{{"Name", name},
                         {"GroupName", group},
                         {"ScheduleExpression", "rate(5 minutes)"},
                         {"State", state},
                         {"Target", json::object{{"Arn", "arn:aws:lambda:us-east-1:000000000000:function:f"},
                                                 {"RoleArn", "arn:aws:iam::000000000000:role/r"}}},
                         {"CreationDate", 1700000000.123}};
    return s;
  }

  static std::vector<std::string> keys(const std::vector<Schedule>& list) {
    std::vector<std::string> out;
    for (const auto& s : list) out.push_back(s.group + "/" + s.name);
    return out;
  }

  Scope scope_{"000000000000", "us-east-1"};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<SchedulerStore> store_;
};

TEST_F(SchedulerStoreTest, ScheduleRoundTrips) {
  auto s = schedule("default", "nightly");
  write([&](SchedulerTables& t) { t.put_schedule(s); });
  auto got = read<std::optional<Schedule>>([&](SchedulerTables& t) { return t.find_schedule(scope_, "default", "nightly"); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->account, s.account);
  EXPECT_EQ(got->region, s.region);
  EXPECT_EQ(got->group, "default");
  EXPECT_EQ(got->name, "nightly");
  EXPECT_EQ(got->created_ms, 1700000000123);
  EXPECT_EQ(got->doc, s.doc);
  // Another account, region or group sees nothing.
  EXPECT_FALSE(read<std::optional<Schedule>>([&](SchedulerTables& t) {
    return t.find_schedule(Scope{"111111111111", "us-east-1"}, "default", "nightly");
  }));
  EXPECT_FALSE(read<std::optional<Schedule>>([&](SchedulerTables& t) {
    return t.find_schedule(Scope{"000000000000", "eu-west-1"}, "default", "nightly");
  }));
  EXPECT_FALSE(read<std::optional<Schedule>>([&](SchedulerTables& t) { return t.find_schedule(scope_, "g", "nightly"); }));
  // put replaces.
  s.doc["State"] = "DISABLED";
  write([&](SchedulerTables& t) { t.put_schedule(s); });
  got = read<std::optional<Schedule>>([&](SchedulerTables& t) { return t.find_schedule(scope_, "default", "nightly"); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->doc.at("State"), "DISABLED");
  EXPECT_EQ(read<std::vector<Schedule>>([](SchedulerTables& t) { return t.all_schedules(); }).size(), 1u);
  write([&](SchedulerTables& t) { t.delete_schedule(scope_, "default", "nightly"); });
  EXPECT_FALSE(read<std::optional<Schedule>>([&](SchedulerTables& t) { return t.find_schedule(scope_, "default", "nightly"); }));
}

TEST_F(SchedulerStoreTest, GroupRoundTripsAndTakesItsSchedulesWithIt) {
  Group g{scope_.account, scope_.region, "team-a", 1700000000000, 1700000005000};
  write([&](SchedulerTables& t) {
    t.put_group(g);
    t.put_schedule(schedule("team-a", "one"));
    t.put_schedule(schedule("team-a", "two"));
    t.put_schedule(schedule("default", "keep"));
  });
  auto got = read<std::optional<Group>>([&](SchedulerTables& t) { return t.find_group(scope_, "team-a"); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->name, "team-a");
  EXPECT_EQ(got->created_ms, 1700000000000);
  EXPECT_EQ(got->modified_ms, 1700000005000);
  EXPECT_FALSE(read<std::optional<Group>>([&](SchedulerTables& t) { return t.find_group(scope_, "default"); }));
  write([&](SchedulerTables& t) { t.delete_group(scope_, "team-a"); });
  EXPECT_FALSE(read<std::optional<Group>>([&](SchedulerTables& t) { return t.find_group(scope_, "team-a"); }));
  EXPECT_EQ(keys(read<std::vector<Schedule>>([](SchedulerTables& t) { return t.all_schedules(); })),
            std::vector<std::string>{"default/keep"});
}

TEST_F(SchedulerStoreTest, ListsFilterAndPage) {
  write([&](SchedulerTables& t) {
    t.put_group(Group{scope_.account, scope_.region, "b", 1, 1});
    t.put_group(Group{scope_.account, scope_.region, "a", 1, 1});
    t.put_group(Group{scope_.account, scope_.region, "ab", 1, 1});
    t.put_schedule(schedule("default", "job-1"));
    t.put_schedule(schedule("default", "job-2", "DISABLED"));
    t.put_schedule(schedule("b", "job-1"));
    t.put_schedule(schedule("b", "other"));
    t.put_schedule(schedule("a", "job-9", "DISABLED"));
  });
  // The listing of a query that `set` fills in.
  auto list = [&](const std::function<void(ScheduleQuery&)>& set) {
    ScheduleQuery q;
    set(q);
    return keys(read<std::vector<Schedule>>([&](SchedulerTables& t) { return t.list_schedules(scope_, q); }));
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(list([](ScheduleQuery&) {}), (V{"a/job-9", "b/job-1", "b/other", "default/job-1", "default/job-2"}));
  EXPECT_EQ(list([](ScheduleQuery& q) { q.group = "b"; }), (V{"b/job-1", "b/other"}));
  EXPECT_EQ(list([](ScheduleQuery& q) { q.name_prefix = "job-"; }),
            (V{"a/job-9", "b/job-1", "default/job-1", "default/job-2"}));
  EXPECT_EQ(list([](ScheduleQuery& q) { q.state = "DISABLED"; }), (V{"a/job-9", "default/job-2"}));
  EXPECT_EQ(list([](ScheduleQuery& q) {
              q.group = "default";
              q.name_prefix = "job";
              q.state = "ENABLED";
            }),
            (V{"default/job-1"}));
  EXPECT_EQ(list([](ScheduleQuery& q) { q.limit = 2; }), (V{"a/job-9", "b/job-1"}));
  EXPECT_EQ(list([](ScheduleQuery& q) {
              q.after_group = "b";
              q.after_name = "job-1";
              q.limit = 2;
            }),
            (V{"b/other", "default/job-1"}));
  EXPECT_EQ(list([](ScheduleQuery& q) {
              q.name_prefix = "job-";
              q.after_group = "b";
              q.after_name = "job-1";
            }),
            (V{"default/job-1", "default/job-2"}));

  auto groups = [&](std::string_view prefix, std::string_view after, int limit) {
    std::vector<std::string> out;
    for (const auto& g : read<std::vector<Group>>([&](SchedulerTables& t) { return t.list_groups(scope_, prefix, after, limit); }))
      out.push_back(g.name);
    return out;
  };
  EXPECT_EQ(groups("", "", 10), (V{"a", "ab", "b"}));
  EXPECT_EQ(groups("a", "", 10), (V{"a", "ab"}));
  EXPECT_EQ(groups("", "a", 1), (V{"ab"}));
}

TEST_F(SchedulerStoreTest, TagsKeepTheirOrder) {
  const std::string arn = "arn:aws:scheduler:us-east-1:000000000000:schedule-group/a";
  write([&](SchedulerTables& t) {
    t.set_tags(arn, {{"team", "data"}, {"env", "dev"}});
    t.set_tags(arn, {{"team", "ops"}, {"cost", "1"}});
  });
  auto tags = read<std::vector<store::ResourceTag>>([&](SchedulerTables& t) { return t.tags(arn); });
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].key, "team");
  EXPECT_EQ(tags[0].value, "ops");
  EXPECT_EQ(tags[1].key, "env");
  EXPECT_EQ(tags[2].key, "cost");
  write([&](SchedulerTables& t) { t.remove_tags(arn, {"env", "missing"}); });
  EXPECT_EQ(read<std::vector<store::ResourceTag>>([&](SchedulerTables& t) { return t.tags(arn); }).size(), 2u);
  write([&](SchedulerTables& t) { t.drop_tags(arn); });
  EXPECT_TRUE(read<std::vector<store::ResourceTag>>([&](SchedulerTables& t) { return t.tags(arn); }).empty());
}

TEST_F(SchedulerStoreTest, AFailedWriteChangesNothing) {
  auto r = store_->write([&](SchedulerTables& t) -> Result<json::object> {
    t.put_group(Group{scope_.account, scope_.region, "g", 1, 1});
    t.put_schedule(schedule("g", "s"));
    return make_error(ErrorKind::kValidation, "refused");
  });
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(read<std::optional<Group>>([&](SchedulerTables& t) { return t.find_group(scope_, "g"); }));
  EXPECT_TRUE(read<std::vector<Schedule>>([](SchedulerTables& t) { return t.all_schedules(); }).empty());
}

}  // namespace
}  // namespace gantry::scheduler
