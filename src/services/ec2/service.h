// The EC2 service as the router sees it: an operation table (ec2 protocol) over an Ec2Store.
// Gantry implements the read side of the default VPC; every other EC2 action answers UnsupportedOperation.
#pragma once

#include "api/router.h"
#include "services/ec2/model.h"

namespace gantry::ec2 {

// `store` must outlive the returned service.
api::QueryService make_service(Ec2Store& store);

}  // namespace gantry::ec2
