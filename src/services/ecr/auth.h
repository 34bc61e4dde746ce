// Registry passwords: GetAuthorizationToken issues them, the registry checks them. A token is
// base64("AWS:" + password); only sha256(password) is stored, with the account it authorizes and its
// expiry (12 hours, as ECR).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "services/ecr/model.h"

namespace gantry::ecr {

struct IssuedToken {
  std::string token;  // base64("AWS:<password>")
  TimePoint expires_at;
};

// Who a token was issued to: the registry authorizes its calls as that caller.
struct TokenOwner {
  std::string principal_arn;
  std::string principal_id;
  std::string access_key_id;
};

// Stores the new password's hash (with its owner) and drops expired ones.
Result<IssuedToken> issue_token(EcrStore& store, Random& random, std::string_view account, const TokenOwner& owner,
                                TimePoint now);

// The owner of `password` when it is an unexpired password issued for `account`; nullopt otherwise. The
// stored hash is compared in constant time.
Result<std::optional<TokenOwner>> verify_password(EcrStore& store, std::string_view password,
                                                  std::string_view account, TimePoint now);

}  // namespace gantry::ecr
