// STS as the router sees it (query protocol): GetCallerIdentity answers who signed the request;
// AssumeRole and GetSessionToken hand out temporary credentials (kept in IAM's store, refused after
// they expire). Federation (AssumeRoleWithWebIdentity, AssumeRoleWithSAML, GetFederationToken) and MFA
// answer UnsupportedOperation.
#pragma once

#include "api/router.h"
#include "services/iam/model.h"

namespace gantry::sts {

// `store` must outlive the returned service.
api::QueryService make_service(iam::CountingStore& store);

}  // namespace gantry::sts
