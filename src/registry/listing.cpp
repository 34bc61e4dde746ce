// Tags list and catalog, paged with n and last (and a Link header to the next page).
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>

#include "registry/internal.h"
#include "registry/parse.h"
#include "services/ecr/images.h"

namespace gantry::registry {

namespace json = boost::json;

namespace {

constexpr int kDefaultPage = 1000;
constexpr int kMaxPage = 10000;

Result<int> page_size(const http::Request& req) {
  auto n = query_param(req.query(), "n");
  if (!n) return kDefaultPage;
  int v = -1;
  auto [p, ec] = std::from_chars(n->data(), n->data() + n->size(), v);
  if (ec != std::errc() || p != n->data() + n->size() || v < 0)
    return make_error(ErrorKind::kRegistryPaginationInvalid,
                      fmt::format("n must be a non-negative integer, not '{}'", n->substr(0, 32)));
  return std::min(v, kMaxPage);
}

http::Response page(std::string_view path, const std::string& key, json::array items, bool more, int n,
                    json::object doc) {
  http::Response r = reply(200);
  r.set_header("Content-Type", "application/json");
  if (more && !items.empty())
    r.set_header("Link", fmt::format("<{}?last={}&n={}>; rel=\"next\"", path,
                                     std::string_view(items.back().as_string()), n));
  doc[key] = std::move(items);
  r.body = json::serialize(doc);
  return r;
}

}  // namespace

http::Response list_tags(Call& call) {
  auto n = page_size(call.request);
  if (!n) return oci_error(n.error());
  std::string after = query_param(call.request.query(), "last").value_or("");
  json::array tags;
  bool more = false;
  auto st = call.env.store.read([&](ecr::EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, ecr::require_repository(t, call.scope, call.route.name));
    if (*n == 0) return {};
    auto rows = t.list_tags(call.scope, repo.name, after, *n + 1);
    more = rows.size() > static_cast<size_t>(*n);
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(*n); ++i) tags.emplace_back(rows[i].tag);
    return {};
  });
  if (!st) return oci_error(st.error());
  return page(call.request.path(), "tags", std::move(tags), more, *n, json::object{{"name", call.route.name}});
}

http::Response catalog(Call& call) {
  auto n = page_size(call.request);
  if (!n) return oci_error(n.error());
  std::string after = query_param(call.request.query(), "last").value_or("");
  json::array names;
  bool more = false;
  auto st = call.env.store.read([&](ecr::EcrTables& t) -> Status {
    if (*n == 0) return {};
    auto rows = t.list_repository_names(call.scope, after, *n + 1);
    more = rows.size() > static_cast<size_t>(*n);
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(*n); ++i) names.emplace_back(rows[i]);
    return {};
  });
  if (!st) return oci_error(st.error());
  return page(call.request.path(), "repositories", std::move(names), more, *n, json::object{});
}

}  // namespace gantry::registry
