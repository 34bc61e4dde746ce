// The ECR operations Gantry implements (one function per operation) and the helpers they share.
// Inputs arrive validated against the ECR model (types, required members, enums, lengths).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/context.h"
#include "core/error.h"
#include "services/ecr/images.h"
#include "services/ecr/model.h"

namespace gantry::ecr {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<json::object>;

// What every handler gets: the store and where the registry is reachable (for repositoryUri and
// proxyEndpoint; the port is known only once the server listens).
struct Env {
  EcrStore& store;
  std::function<uint16_t()> port;
};

// repositories.cpp
Out create_repository(Env& env, Ctx& ctx, json::object& in);
Out describe_repositories(Env& env, Ctx& ctx, json::object& in);
Out delete_repository(Env& env, Ctx& ctx, json::object& in);
Out put_image_tag_mutability(Env& env, Ctx& ctx, json::object& in);

// image_queries.cpp
Out list_images(Env& env, Ctx& ctx, json::object& in);
Out describe_images(Env& env, Ctx& ctx, json::object& in);
Out batch_get_image(Env& env, Ctx& ctx, json::object& in);

// image_changes.cpp
Out put_image(Env& env, Ctx& ctx, json::object& in);
Out batch_delete_image(Env& env, Ctx& ctx, json::object& in);

// auth.cpp
Out get_authorization_token(Env& env, Ctx& ctx, json::object& in);
Out set_repository_policy(Env& env, Ctx& ctx, json::object& in);
// The repository's policy document; empty when it has none or does not exist.
std::string repository_policy_text(EcrStore& store, const Scope& scope, std::string_view name);
Out get_repository_policy(Env& env, Ctx& ctx, json::object& in);
Out delete_repository_policy(Env& env, Ctx& ctx, json::object& in);

// tags.cpp
Out tag_resource(Env& env, Ctx& ctx, json::object& in);
Out untag_resource(Env& env, Ctx& ctx, json::object& in);
Out list_tags_for_resource(Env& env, Ctx& ctx, json::object& in);

// Resource tags as a request gives them (tags.cpp): at most 50, key 1-128, value 0-256, no "aws:"
// prefix, no duplicate keys.
Result<std::vector<Tag>> parse_tags(const json::array* tags);

// Shared helpers (repositories.cpp).
std::optional<std::string> get_string(const json::object& in, std::string_view key);
const json::array* get_array(const json::object& in, std::string_view key);
// registryId, when given, must be the caller's account: Gantry has one registry per account.
Status check_registry_id(const Ctx& ctx, const json::object& in);
// The repository a request names, in the caller's scope.
Result<std::string> repository_name(const json::object& in);
std::string registry_host(const Scope& scope, uint16_t port);  // ACCOUNT.dkr.ecr.REGION.localhost:PORT
json::object encode_repository(const Repository& r, uint16_t port);
// maxResults in [1, 1000] (default `fallback`) and where a listing resumes (nextToken).
Result<int> page_size(const json::object& in, int fallback);
Result<std::string> page_start(const json::object& in, std::string_view listing);
// An ImageIdentifier of a request: {imageDigest?, imageTag?}.
struct ImageId {
  std::optional<std::string> digest;
  std::optional<std::string> tag;
};
ImageId parse_image_id(const json::value& v);
// Why an ImageIdentifier names no image, in BatchGetImage/BatchDeleteImage terms (failureCode).
struct ImageFailure {
  std::string code;
  std::string reason;
};
// The image an ImageIdentifier names (by digest, tag or both) (image_queries.cpp).
std::variant<Image, ImageFailure> resolve_image_id(EcrTables& t, const Repository& repo, const ImageId& id);
json::object encode_image_id(const ImageId& id);

}  // namespace gantry::ecr
