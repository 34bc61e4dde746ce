// The pieces every service's SQLite storage shares, so each module writes only its own tables.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "store/database.h"

namespace gantry::store {

// Implements a service's store interface (`Interface`, with virtual `Out read(const Fn&)` and
// `Out write(const Fn&)`) by running `fn` on a `Tables` view (constructed from the Tx) inside
// Database::read / Database::write.
template <class Interface, class Tables, class Fn, class Out>
class TransactionalStore final : public Interface {
 public:
  explicit TransactionalStore(Database& db) : db_(db) {}
  Out read(const Fn& fn) override {
    return db_.read([&](Tx& tx) {
      Tables t(tx);
      return fn(t);
    });
  }
  Out write(const Fn& fn) override {
    return db_.write([&](Tx& tx) {
      Tables t(tx);
      return fn(t);
    });
  }

 private:
  Database& db_;
};

// Times are stored as milliseconds since the epoch.
inline int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline TimePoint from_ms(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

struct ResourceTag {
  std::string key;
  std::string value;
};

// Tags of resources named by ARN, in a module's own table of columns (arn, key, value, position) with
// primary key (arn, key); read back in the order keys were first set.
std::vector<ResourceTag> read_resource_tags(Tx& tx, std::string_view table, std::string_view arn);
// Sets values; keys already present keep their position.
void upsert_resource_tags(Tx& tx, std::string_view table, std::string_view arn, const std::vector<ResourceTag>& tags);
void delete_resource_tags(Tx& tx, std::string_view table, std::string_view arn, const std::vector<std::string>& keys);

}  // namespace gantry::store
