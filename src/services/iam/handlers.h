// What IAM's handlers share: input readers, validation in IAM's words, XML pieces, paging. Internal to
// the IAM module.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/router.h"
#include "iam/policy.h"
#include "protocol/xml.h"
#include "services/iam/model.h"

namespace gantry::iam::detail {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<protocol::xml::Element>;

constexpr size_t kMaxPolicyChars = 10240;  // AWS: 2,048 (users), 10,240 (roles), 6,144 (managed); one bound here
constexpr size_t kMaxAttachedPolicies = 10;

std::optional<std::string> get_string(const json::object& in, std::string_view key);
// The input's UserName / RoleName / GroupName.
std::string entity_field(EntityKind kind);  // "UserName" | "RoleName" | "GroupName"
std::string title(EntityKind kind);         // "User" | "Role" | "Group"

Status check_name(std::string_view what, std::string_view name, size_t max);
Status check_path(std::string_view path);
Result<size_t> max_items(const json::object& in);
Error no_such(EntityKind kind, std::string_view name);
// NoSuchEntity unless the user, role or group exists.
Status require_entity(IamTables& t, std::string_view account, EntityKind kind, std::string_view name);
std::string new_id(Random& random, std::string_view prefix);  // prefix + 17 of [A-Z2-7]

// A policy document checked as AWS checks it: size, then the language.
Status check_document(std::string_view document, PolicyKind kind);

// Tags: [{Key, Value}] from the input (at most 50, keys 1–128, values 0–256 characters).
Result<std::vector<store::ResourceTag>> read_tags(const json::object& in);
Result<std::vector<std::string>> read_tag_keys(const json::object& in);
void drop_tags(IamTables& t, const std::string& arn);
// <name><Path/><UserName/><UserId/><Arn/><CreateDate/></name>, returned for tags to be added.
protocol::xml::Element& add_user(protocol::xml::Element& parent, const User& u, const char* name);
void add_tags(protocol::xml::Element& parent, const std::vector<store::ResourceTag>& tags, const char* name = "Tags");

// IsTruncated and the Marker of the next page when `rows` holds more than `limit` (a page and one more).
template <class T, class Name>
void page_end(protocol::xml::Element& out, const std::vector<T>& rows, size_t limit, Name name) {
  bool truncated = rows.size() > limit;
  out.add("IsTruncated", truncated);
  if (truncated) out.add("Marker", name(rows[limit - 1]));
}

// Handlers, by area. Each registers its operations into `s`.
void add_user_operations(api::QueryService& s, IamStore& store);
void add_role_and_group_operations(api::QueryService& s, IamStore& store);
void add_policy_operations(api::QueryService& s, IamStore& store);

}  // namespace gantry::iam::detail
