#include "store/database.h"

#include <gtest/gtest.h>

namespace gantry::store {
namespace {

std::vector<Migration> migrations() {
  return {{"t", 1, "CREATE TABLE items (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"},
          {"t", 2, "ALTER TABLE items ADD COLUMN note TEXT"}};
}

TEST(Database, AppliesMigrationsOnce) {
  auto db = Database::open(":memory:", migrations());
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto n = (*db)->read([](Tx& tx) -> Result<int64_t> {
    auto q = tx.prepare("SELECT count(*) FROM schema_migrations WHERE module = 't'");
    q.step();
    return q.integer(0);
  });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
}

TEST(Database, WriteCommitsOnSuccessAndRollsBackOnError) {
  auto db = std::move(Database::open(":memory:", migrations()).value());
  auto ok = db->write([](Tx& tx) -> Status {
    tx.prepare("INSERT INTO items (k, v) VALUES (?1, ?2)").bind(1, "a").bind(2, int64_t{1}).run();
    return {};
  });
  ASSERT_TRUE(ok.ok());
  auto failed = db->write([](Tx& tx) -> Status {
    tx.prepare("INSERT INTO items (k, v) VALUES (?1, ?2)").bind(1, "b").bind(2, int64_t{2}).run();
    return make_error(ErrorKind::kEcsClient, "changed my mind");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "changed my mind");
  auto keys = db->read([](Tx& tx) -> Result<std::string> {
    auto q = tx.prepare("SELECT group_concat(k) FROM items");
    q.step();
    return q.text(0);
  });
  EXPECT_EQ(*keys, "a");
}

TEST(Database, SqlFailuresBecomeInternalErrorsAndRollBack) {
  auto db = std::move(Database::open(":memory:", migrations()).value());
  auto r = db->write([](Tx& tx) -> Status {
    tx.prepare("INSERT INTO items (k, v) VALUES ('x', 1)").run();
    tx.prepare("INSERT INTO items (k, v) VALUES ('x', 2)").run();  // primary key violation
    return {};
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  auto count = db->read([](Tx& tx) -> Result<int64_t> {
    auto q = tx.prepare("SELECT count(*) FROM items");
    q.step();
    return q.integer(0);
  });
  EXPECT_EQ(*count, 0);
}

TEST(Database, WipeEmptiesEveryTableButKeepsSchema) {
  auto db = std::move(Database::open(":memory:", migrations()).value());
  ASSERT_TRUE(db->write([](Tx& tx) -> Status {
                  tx.exec("INSERT INTO items (k, v) VALUES ('a', 1), ('b', 2)");
                  return {};
                }).ok());
  ASSERT_TRUE(db->wipe().ok());
  auto count = db->read([](Tx& tx) -> Result<int64_t> {
    auto q = tx.prepare("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM schema_migrations)");
    q.step();
    return q.integer(0) * 100 + q.integer(1);
  });
  EXPECT_EQ(*count, 2);  // no items, both migrations remembered
}

TEST(Database, ReportsUnopenablePath) {
  auto db = Database::open("/nonexistent-dir/x/y.db", migrations());
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find("/nonexistent-dir/x/y.db"), std::string::npos);
}

}  // namespace
}  // namespace gantry::store
