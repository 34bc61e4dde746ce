// What other services (ECS's awsvpc tasks) ask of EC2 networking, as C++ rather than the wire API.
#pragma once

#include <string>
#include <vector>

#include "core/arn.h"
#include "core/error.h"
#include "services/ec2/model.h"

namespace gantry::ec2 {

class Network {
 public:
  // `store` must outlive the Network. Thread-safe as the store is.
  explicit Network(Ec2Store& store) : store_(store) {}

  // The subnets with these ids in `scope`, in the order asked (duplicates answered once). The scope's
  // default network is created first if it does not exist yet. Errors: kEc2InvalidSubnetIdMalformed
  // for an id not of the form subnet-..., kEc2InvalidSubnetIdNotFound naming every unknown id; a
  // caller with its own error vocabulary (ECS: InvalidParameterException) rewords them.
  Result<std::vector<Subnet>> find_subnets(const Scope& scope, const std::vector<std::string>& ids);

  // The same for security groups (kEc2InvalidGroupIdMalformed, kEc2InvalidGroupNotFound).
  Result<std::vector<SecurityGroup>> find_security_groups(const Scope& scope, const std::vector<std::string>& ids);

 private:
  Ec2Store& store_;
};

}  // namespace gantry::ec2
