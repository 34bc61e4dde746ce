// Registry passwords: GetAuthorizationToken issues them, the registry checks them. A token is
// base64("AWS:" + password); only sha256(password) is stored, with the account it authorizes and its
// expiry (12 hours, as ECR).
#pragma once

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

// Stores the new password's hash and drops expired ones.
Result<IssuedToken> issue_token(EcrStore& store, Random& random, std::string_view account, TimePoint now);

// Whether `password` is an unexpired password issued for `account`. The stored hash is compared in
// constant time.
Result<bool> verify_password(EcrStore& store, std::string_view password, std::string_view account, TimePoint now);

}  // namespace gantry::ecr
