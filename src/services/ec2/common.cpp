// What the EC2 operations share: filters, paging, DryRun, tags, not-found messages.
#include <fmt/format.h>

#include <algorithm>

#include "core/pagination.h"
#include "services/ec2/handlers.h"

namespace gantry::ec2 {

std::string Subnet::arn() const { return fmt::format("arn:aws:ec2:{}:{}:subnet/{}", region, account, id); }

std::string SecurityGroup::arn() const {
  return fmt::format("arn:aws:ec2:{}:{}:security-group/{}", region, account, id);
}

Result<std::vector<Filter>> parse_filters(const json::object& in) {
  std::vector<Filter> out;
  auto* filters = in.if_contains("Filters");
  if (filters == nullptr) return out;
  for (const auto& f : filters->as_array()) {
    const auto& o = f.as_object();
    Filter filter;
    if (auto* n = o.if_contains("Name")) filter.name = std::string(n->as_string());
    if (auto* vs = o.if_contains("Values"))
      for (const auto& v : vs->as_array()) filter.values.emplace_back(v.as_string());
    if (filter.name.empty()) return make_error(ErrorKind::kEc2InvalidFilter, "A filter must have a Name");
    if (filter.values.empty())
      return make_error(ErrorKind::kEc2InvalidFilter,
                        fmt::format("The filter '{}' must have at least one Value", filter.name.substr(0, 128)));
    out.push_back(std::move(filter));
  }
  return out;
}

bool wildcard_match(std::string_view pattern, std::string_view value) {
  // Iterative glob with backtracking to the last '*': linear in practice, no recursion.
  size_t p = 0, v = 0;
  size_t star_p = std::string_view::npos, star_v = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_v = v;
      continue;
    }
    if (p < pattern.size()) {
      char c = pattern[p];
      size_t width = 1;
      if (c == '\\' && p + 1 < pattern.size()) {
        c = pattern[p + 1];
        width = 2;
        if (c == value[v]) {
          p += width;
          ++v;
          continue;
        }
      } else if (c == '?' || c == value[v]) {
        p += width;
        ++v;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    v = ++star_v;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool is_tag_filter(std::string_view name) {
  return name == "tag-key" || name == "tag-value" || (name.starts_with("tag:") && name.size() > 4);
}

std::optional<std::vector<std::string>> tag_filter_values(const std::vector<Tag>& tags, std::string_view name) {
  if (!is_tag_filter(name)) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& t : tags) {
    if (name == "tag-key") out.push_back(t.key);
    else if (name == "tag-value") out.push_back(t.value);
    else if (t.key == name.substr(4)) out.push_back(t.value);
  }
  return out;
}

std::vector<std::string> id_list(const json::object& in, std::string_view key) {
  std::vector<std::string> out;
  auto* ids = in.if_contains(key);
  if (ids == nullptr) return out;
  for (const auto& v : ids->as_array()) {
    std::string id(v.as_string());
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(std::move(id));
  }
  return out;
}

Result<Page> page_of(const std::vector<std::string>& ids, const json::object& in, std::string_view listing) {
  Page page;
  page.end = ids.size();
  if (auto* token = in.if_contains("NextToken")) {
    auto last = decode_page_token(listing, token->as_string());
    if (!last)
      return make_error(ErrorKind::kEc2InvalidPaginationToken,
                        fmt::format("The token '{}' is invalid for this request", std::string(token->as_string()).substr(0, 128)));
    page.begin = static_cast<size_t>(std::upper_bound(ids.begin(), ids.end(), *last) - ids.begin());
  }
  if (auto* max = in.if_contains("MaxResults")) {
    auto limit = static_cast<size_t>(max->to_number<int64_t>());
    if (page.begin + limit < ids.size()) {
      page.end = page.begin + limit;
      page.next_token = encode_page_token(listing, ids[page.end - 1]);
    }
  }
  if (page.begin > page.end) page.begin = page.end;
  return page;
}

Status check_dry_run(const json::object& in) {
  auto* dry = in.if_contains("DryRun");
  if (dry != nullptr && dry->is_bool() && dry->as_bool())
    return make_error(ErrorKind::kEc2DryRunOperation, "Request would have succeeded, but DryRun flag is set.");
  return {};
}

void encode_tags(protocol::xml::Element& parent, const std::vector<Tag>& tags) {
  if (tags.empty()) return;
  auto& set = parent.add("tagSet");
  for (const auto& t : tags) {
    auto& item = set.add("item");
    item.add("key", t.key);
    item.add("value", t.value);
  }
}

std::string not_found_message(std::string_view what, const std::vector<std::string>& ids) {
  std::string joined;
  for (const auto& id : ids) {
    if (!joined.empty()) joined += ", ";
    joined += id.substr(0, 128);
  }
  if (ids.size() == 1) return fmt::format("The {} '{}' does not exist", what, joined);
  return fmt::format("The {}s '{}' do not exist", what, joined);
}

}  // namespace gantry::ec2
