// STS as the router sees it (query protocol). GetCallerIdentity answers who signed the request; the
// session operations (AssumeRole, GetSessionToken, ...) come with IAM and answer UnsupportedOperation.
#pragma once

#include "api/router.h"

namespace gantry::sts {

api::QueryService make_service();

}  // namespace gantry::sts
