#include "services/ec2/service.h"

#include "services/ec2/handlers.h"

namespace gantry::ec2 {

api::QueryService make_service(Ec2Store& store) {
  api::QueryService s;
  s.name = "ec2";
  s.validation_error_type = "InvalidParameterValue";
  auto add = [&](std::string name, Out (*fn)(Ec2Store&, Ctx&, json::object&)) {
    s.operations.emplace(std::move(name), [&store, fn](Ctx& ctx, json::object& in) { return fn(store, ctx, in); });
  };
  add("DescribeVpcs", describe_vpcs);
  add("DescribeSubnets", describe_subnets);
  add("DescribeSecurityGroups", describe_security_groups);
  add("DescribeAvailabilityZones", describe_availability_zones);
  add("DescribeAccountAttributes", describe_account_attributes);
  return s;
}

}  // namespace gantry::ec2
