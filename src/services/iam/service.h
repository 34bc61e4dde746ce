// IAM as the router sees it (query protocol, XML): users, their access keys and inline policies.
// Roles, groups, managed policies and the rest answer UnsupportedOperation until they are built.
#pragma once

#include "api/router.h"
#include "services/iam/model.h"

namespace gantry::iam {

// `store` must outlive the returned service.
api::QueryService make_service(IamStore& store);

}  // namespace gantry::iam
