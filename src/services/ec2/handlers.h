// The EC2 operations Gantry implements (one function per operation) and what they share: EC2's
// Filter semantics, MaxResults/NextToken paging and DryRun. Inputs arrive decoded from the ec2
// protocol and validated against the EC2 model; outputs are XML elements named as EC2 names them.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/context.h"
#include "core/error.h"
#include "protocol/xml.h"
#include "services/ec2/model.h"

namespace gantry::ec2 {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<protocol::xml::Element>;

// vpcs.cpp
Out describe_vpcs(Ec2Store& store, Ctx& ctx, json::object& in);
Out describe_account_attributes(Ec2Store& store, Ctx& ctx, json::object& in);
// subnets.cpp
Out describe_subnets(Ec2Store& store, Ctx& ctx, json::object& in);
// security_groups.cpp
Out describe_security_groups(Ec2Store& store, Ctx& ctx, json::object& in);
// availability_zones.cpp
Out describe_availability_zones(Ec2Store& store, Ctx& ctx, json::object& in);

// A Filter of a request: a name and the values any of which an item must match.
struct Filter {
  std::string name;
  std::vector<std::string> values;
};

// One filter name an operation supports and the values an item has for it.
template <class T>
struct FilterField {
  std::string name;
  std::function<std::vector<std::string>(const T&)> values;
};

// Filters of `in` ("Filters"): each needs a name and at least one value (InvalidFilter otherwise).
Result<std::vector<Filter>> parse_filters(const json::object& in);

// EC2's filter value patterns: `*` any run of characters, `?` one character, `\` escapes either.
bool wildcard_match(std::string_view pattern, std::string_view value);

// `tag:<key>` (value of that tag), `tag-key` and `tag-value`: the tag filters every taggable resource has.
std::optional<std::vector<std::string>> tag_filter_values(const std::vector<Tag>& tags, std::string_view name);
bool is_tag_filter(std::string_view name);

// The items matching every filter (a filter matches when any of its values matches any of the
// item's values for it). A name `fields` does not list (and that is not a tag filter) is an
// InvalidParameterValue error, as EC2 answers it.
template <class T>
Result<std::vector<T>> apply_filters(std::vector<T> items, const std::vector<Filter>& filters,
                                     const std::vector<FilterField<T>>& fields) {
  std::vector<const FilterField<T>*> chosen;
  for (const auto& f : filters) {
    const FilterField<T>* field = nullptr;
    for (const auto& candidate : fields)
      if (candidate.name == f.name) field = &candidate;
    if (field == nullptr && !is_tag_filter(f.name))
      return make_error(ErrorKind::kEc2InvalidParameterValue, "The filter '" + f.name.substr(0, 128) + "' is invalid");
    chosen.push_back(field);
  }
  std::vector<T> out;
  for (auto& item : items) {
    bool keep = true;
    for (size_t i = 0; keep && i < filters.size(); ++i) {
      std::vector<std::string> have =
          chosen[i] ? chosen[i]->values(item) : tag_filter_values(item.tags, filters[i].name).value_or(std::vector<std::string>{});
      bool any = false;
      for (const auto& want : filters[i].values)
        for (const auto& v : have) any = any || wildcard_match(want, v);
      keep = any;
    }
    if (keep) out.push_back(std::move(item));
  }
  return out;
}

// Ids of a request list (e.g. "SubnetIds"), in request order without duplicates.
std::vector<std::string> id_list(const json::object& in, std::string_view key);

// The page of `items` (sorted by id) a request asks for: all of them without MaxResults; otherwise
// at most MaxResults after NextToken's id, and the token for the rest. A token this listing did not
// hand out is InvalidPaginationToken.
struct Page {
  size_t begin = 0;
  size_t end = 0;
  std::optional<std::string> next_token;
};
Result<Page> page_of(const std::vector<std::string>& ids, const json::object& in, std::string_view listing);

// DryRun=true: EC2 answers DryRunOperation (412) instead of doing the work, once inputs are checked.
Status check_dry_run(const json::object& in);

// The EC2 XML of a resource's tags (<tagSet><item><key/><value/></item>...</tagSet>), omitted when empty.
void encode_tags(protocol::xml::Element& parent, const std::vector<Tag>& tags);

// "The subnet ID 'subnet-1' does not exist" / "The subnet IDs 'subnet-1, subnet-2' do not exist".
std::string not_found_message(std::string_view what, const std::vector<std::string>& ids);

// The items whose ids are in `ids` (all of them when `ids` is empty), in id order. Ids not of the form
// `prefix...` are `malformed`; ids of that form that no item has are `not_found`, all named in one message.
template <class T>
Result<std::vector<T>> select_ids(std::vector<T> items, const std::vector<std::string>& ids, std::string_view prefix,
                                  ErrorKind malformed, ErrorKind not_found, std::string_view what) {
  if (ids.empty()) return items;
  for (const auto& id : ids)
    if (!id.starts_with(prefix) || id.size() == prefix.size())
      return make_error(malformed, "Invalid id: \"" + id.substr(0, 128) + "\" (expecting \"" + std::string(prefix) + "...\")");
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    bool found = false;
    for (const auto& item : items) found = found || item.id == id;
    if (!found) missing.push_back(id);
  }
  if (!missing.empty()) return make_error(not_found, not_found_message(what, missing));
  std::vector<T> out;
  for (auto& item : items)
    for (const auto& id : ids)
      if (item.id == id) {
        out.push_back(std::move(item));
        break;
      }
  return out;
}

}  // namespace gantry::ec2
