// DescribeSubnets.
#include "services/ec2/default_network.h"
#include "services/ec2/handlers.h"

namespace gantry::ec2 {

namespace {

std::string flag(bool b) { return b ? "true" : "false"; }

const std::vector<FilterField<Subnet>>& subnet_filters() {
  using V = std::vector<std::string>;
  static const std::vector<FilterField<Subnet>> fields = {
      {"subnet-id", [](const Subnet& s) { return V{s.id}; }},
      {"vpc-id", [](const Subnet& s) { return V{s.vpc_id}; }},
      {"availability-zone", [](const Subnet& s) { return V{s.availability_zone}; }},
      {"availabilityZone", [](const Subnet& s) { return V{s.availability_zone}; }},
      {"availability-zone-id", [](const Subnet& s) { return V{s.availability_zone_id}; }},
      {"availabilityZoneId", [](const Subnet& s) { return V{s.availability_zone_id}; }},
      {"cidr-block", [](const Subnet& s) { return V{s.cidr_block}; }},
      {"cidrBlock", [](const Subnet& s) { return V{s.cidr_block}; }},
      {"cidr", [](const Subnet& s) { return V{s.cidr_block}; }},
      {"default-for-az", [](const Subnet& s) { return V{flag(s.default_for_az)}; }},
      {"defaultForAz", [](const Subnet& s) { return V{flag(s.default_for_az)}; }},
      {"map-public-ip-on-launch", [](const Subnet& s) { return V{flag(s.map_public_ip_on_launch)}; }},
      {"available-ip-address-count", [](const Subnet& s) { return V{std::to_string(s.available_ip_address_count)}; }},
      {"owner-id", [](const Subnet& s) { return V{s.account}; }},
      {"state", [](const Subnet& s) { return V{s.state}; }},
      {"subnet-arn", [](const Subnet& s) { return V{s.arn()}; }},
  };
  return fields;
}

void encode_subnet(protocol::xml::Element& item, const Subnet& s) {
  item.add("subnetId", s.id);
  item.add("subnetArn", s.arn());
  item.add("state", s.state);
  item.add("ownerId", s.account);
  item.add("vpcId", s.vpc_id);
  item.add("cidrBlock", s.cidr_block);
  item.add("ipv6CidrBlockAssociationSet");
  item.add("availableIpAddressCount", s.available_ip_address_count);
  item.add("availabilityZone", s.availability_zone);
  item.add("availabilityZoneId", s.availability_zone_id);
  item.add("defaultForAz", s.default_for_az);
  item.add("mapPublicIpOnLaunch", s.map_public_ip_on_launch);
  item.add("mapCustomerOwnedIpOnLaunch", false);
  item.add("assignIpv6AddressOnCreation", false);
  item.add("ipv6Native", false);
  item.add("enableDns64", false);
  auto& dns = item.add("privateDnsNameOptionsOnLaunch");
  dns.add("hostnameType", "ip-name");
  dns.add("enableResourceNameDnsARecord", false);
  dns.add("enableResourceNameDnsAAAARecord", false);
  item.add("blockPublicAccessStates").add("internetGatewayBlockMode", "off");
  encode_tags(item, s.tags);
}

}  // namespace

Out describe_subnets(Ec2Store& store, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_dry_run(in));
  GANTRY_ASSIGN_OR_RETURN(auto filters, parse_filters(in));
  std::vector<Subnet> all;
  GANTRY_RETURN_IF_ERROR(store.write([&](Ec2Tables& t) -> Status {
    ensure_default_network(t, ctx.scope);
    all = t.subnets(ctx.scope);
    return {};
  }));
  GANTRY_ASSIGN_OR_RETURN(auto chosen, select_ids(std::move(all), id_list(in, "SubnetIds"), "subnet-",
                                                  ErrorKind::kEc2InvalidSubnetIdMalformed,
                                                  ErrorKind::kEc2InvalidSubnetIdNotFound, "subnet ID"));
  GANTRY_ASSIGN_OR_RETURN(auto subnets, apply_filters(std::move(chosen), filters, subnet_filters()));
  std::vector<std::string> ids;
  for (const auto& s : subnets) ids.push_back(s.id);
  GANTRY_ASSIGN_OR_RETURN(auto page, page_of(ids, in, "ec2:DescribeSubnets"));
  protocol::xml::Element out("DescribeSubnetsResult");
  auto& set = out.add("subnetSet");
  for (size_t i = page.begin; i < page.end; ++i) encode_subnet(set.add("item"), subnets[i]);
  if (page.next_token) out.add("nextToken", *page.next_token);
  return out;
}

}  // namespace gantry::ec2
