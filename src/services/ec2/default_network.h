// The default network every account has in every region, as AWS creates it: one default VPC
// (172.31.0.0/16) with an internet gateway, one default /20 subnet per availability zone and the
// VPC's `default` security group. Ids are derived from account and region, so they are the same
// after a restart or a reset, and differ between regions and accounts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/arn.h"
#include "core/error.h"
#include "services/ec2/model.h"

namespace gantry::ec2 {

struct AvailabilityZone {
  std::string name;    // us-east-1a
  std::string id;      // use1-az1
  std::string region;  // us-east-1
};

// The zones Gantry gives a region: <region>a, <region>b, <region>c with ids <short region>-az1..3
// (use1-az1 for us-east-1a, usw2-az2 for us-west-2b).
std::vector<AvailabilityZone> availability_zones(std::string_view region);

// `prefix` + 17 lowercase hex digits derived from `seed` (SHA-256), the form of current EC2 ids.
std::string derived_id(std::string_view prefix, std::string_view seed);

struct DefaultNetwork {
  Vpc vpc;
  std::vector<Subnet> subnets;  // one per availability zone, in zone order
  SecurityGroup security_group;
};

DefaultNetwork default_network(const Scope& scope);

// Creates the scope's default network unless it was created before. Call inside a write transaction.
void ensure_default_network(Ec2Tables& tables, const Scope& scope);

}  // namespace gantry::ec2
