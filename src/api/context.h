// What a handler knows about the request it serves.
#pragma once

#include <string>

#include "core/arn.h"
#include "core/clock.h"
#include "core/random.h"

namespace gantry::api {

struct RequestContext {
  std::string request_id;
  Scope scope;                 // account and region of the call (region from the SigV4 scope)
  std::string access_key_id;   // of the caller's credentials
  std::string principal_arn;   // the caller, e.g. arn:aws:iam::000000000000:root
  std::string principal_id;    // its unique id (the account id for the root)
  TimePoint now;               // one instant for the whole request
  Random* random = nullptr;
};

}  // namespace gantry::api
