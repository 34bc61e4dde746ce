// GetAuthorizationToken and the registry's password check.
#include "services/ecr/auth.h"

#include <openssl/crypto.h>

#include <chrono>

#include "core/pagination.h"
#include "image/digest.h"
#include "services/ecr/handlers.h"

namespace gantry::ecr {

namespace {

constexpr auto kTokenLifetime = std::chrono::hours(12);

std::string password_hash(std::string_view password) { return std::string(image::sha256_of(password).hex()); }

}  // namespace

Result<IssuedToken> issue_token(EcrStore& store, Random& random, std::string_view account, const TokenOwner& owner,
                                TimePoint now) {
  std::string password = random.hex(32);
  std::string hash = password_hash(password);
  AuthToken row{hash.substr(0, 16), hash,           std::string(account), now + kTokenLifetime,
                owner.principal_arn,  owner.principal_id, owner.access_key_id};
  GANTRY_RETURN_IF_ERROR(store.write([&](EcrTables& t) -> Status {
    t.delete_expired_tokens(now);
    t.put_token(row);
    return {};
  }));
  return IssuedToken{base64_encode("AWS:" + password), row.expires_at};
}

Result<std::optional<TokenOwner>> verify_password(EcrStore& store, std::string_view password,
                                                  std::string_view account, TimePoint now) {
  std::string hash = password_hash(password);
  std::optional<AuthToken> row;
  GANTRY_RETURN_IF_ERROR(store.read([&](EcrTables& t) -> Status {
    row = t.find_token(hash.substr(0, 16));
    return {};
  }));
  if (!row || row->hash.size() != hash.size()) return std::optional<TokenOwner>();
  bool same = CRYPTO_memcmp(row->hash.data(), hash.data(), hash.size()) == 0;
  if (!same || row->account != account || now >= row->expires_at) return std::optional<TokenOwner>();
  return std::optional<TokenOwner>(TokenOwner{row->principal_arn, row->principal_id, row->access_key_id});
}

Out get_authorization_token(Env& env, Ctx& ctx, json::object& in) {
  if (auto* ids = get_array(in, "registryIds")) {
    for (const auto& id : *ids)
      if (id.as_string() != ctx.scope.account)
        return make_error(ErrorKind::kEcrInvalidParameter,
                          "Invalid parameter at 'registryIds': Gantry issues tokens for the caller's account " +
                              ctx.scope.account + " only");
  }
  GANTRY_ASSIGN_OR_RETURN(auto issued, issue_token(env.store, *ctx.random, ctx.scope.account,
                                                   TokenOwner{ctx.principal_arn, ctx.principal_id, ctx.access_key_id},
                                                   ctx.now));
  json::object data{{"authorizationToken", issued.token},
                    {"expiresAt", epoch_seconds(issued.expires_at)},
                    {"proxyEndpoint", "http://" + registry_host(ctx.scope, env.port())}};
  return json::object{{"authorizationData", json::array{std::move(data)}}};
}

}  // namespace gantry::ecr
