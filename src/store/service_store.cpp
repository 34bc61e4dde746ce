#include "store/service_store.h"

#include <fmt/format.h>

namespace gantry::store {

std::vector<ResourceTag> read_resource_tags(Tx& tx, std::string_view table, std::string_view arn) {
  auto q = tx.prepare(fmt::format("SELECT key, value FROM {} WHERE arn = ?1 ORDER BY position", table));
  q.bind(1, arn);
  std::vector<ResourceTag> out;
  while (q.step()) out.push_back(ResourceTag{q.text(0), q.text(1)});
  return out;
}

void upsert_resource_tags(Tx& tx, std::string_view table, std::string_view arn, const std::vector<ResourceTag>& tags) {
  auto sql = fmt::format(
      "INSERT INTO {0} (arn, key, value, position) VALUES (?1, ?2, ?3, "
      "(SELECT coalesce(max(position), 0) + 1 FROM {0} WHERE arn = ?1)) "
      "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
      table);
  for (const auto& t : tags) tx.prepare(sql).bind(1, arn).bind(2, t.key).bind(3, t.value).run();
}

void delete_resource_tags(Tx& tx, std::string_view table, std::string_view arn, const std::vector<std::string>& keys) {
  auto sql = fmt::format("DELETE FROM {} WHERE arn = ?1 AND key = ?2", table);
  for (const auto& k : keys) tx.prepare(sql).bind(1, arn).bind(2, k).run();
}

}  // namespace gantry::store
