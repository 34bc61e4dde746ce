// DescribeVpcs and DescribeAccountAttributes (which names the default VPC).
#include "services/ec2/default_network.h"
#include "services/ec2/handlers.h"

namespace gantry::ec2 {

namespace {

const std::vector<FilterField<Vpc>>& vpc_filters() {
  using V = std::vector<std::string>;
  static const std::vector<FilterField<Vpc>> fields = {
      {"vpc-id", [](const Vpc& v) { return V{v.id}; }},
      {"cidr", [](const Vpc& v) { return V{v.cidr_block}; }},
      {"cidr-block-association.cidr-block", [](const Vpc& v) { return V{v.cidr_block}; }},
      {"cidr-block-association.association-id", [](const Vpc& v) { return V{v.cidr_association_id}; }},
      {"cidr-block-association.state", [](const Vpc&) { return V{"associated"}; }},
      {"dhcp-options-id", [](const Vpc& v) { return V{v.dhcp_options_id}; }},
      {"is-default", [](const Vpc& v) { return V{v.is_default ? "true" : "false"}; }},
      {"isDefault", [](const Vpc& v) { return V{v.is_default ? "true" : "false"}; }},
      {"owner-id", [](const Vpc& v) { return V{v.account}; }},
      {"state", [](const Vpc& v) { return V{v.state}; }},
  };
  return fields;
}

void encode_vpc(protocol::xml::Element& item, const Vpc& v) {
  item.add("vpcId", v.id);
  item.add("ownerId", v.account);
  item.add("state", v.state);
  item.add("cidrBlock", v.cidr_block);
  auto& assoc = item.add("cidrBlockAssociationSet").add("item");
  assoc.add("cidrBlock", v.cidr_block);
  assoc.add("associationId", v.cidr_association_id);
  assoc.add("cidrBlockState").add("state", "associated");
  item.add("ipv6CidrBlockAssociationSet");
  item.add("dhcpOptionsId", v.dhcp_options_id);
  item.add("instanceTenancy", v.instance_tenancy);
  item.add("isDefault", v.is_default);
  item.add("blockPublicAccessStates").add("internetGatewayBlockMode", "off");
  encode_tags(item, v.tags);
}

}  // namespace

Out describe_vpcs(Ec2Store& store, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_dry_run(in));
  GANTRY_ASSIGN_OR_RETURN(auto filters, parse_filters(in));
  std::vector<Vpc> all;
  GANTRY_RETURN_IF_ERROR(store.write([&](Ec2Tables& t) -> Status {
    ensure_default_network(t, ctx.scope);
    all = t.vpcs(ctx.scope);
    return {};
  }));
  GANTRY_ASSIGN_OR_RETURN(auto chosen, select_ids(std::move(all), id_list(in, "VpcIds"), "vpc-",
                                                  ErrorKind::kEc2InvalidVpcIdMalformed,
                                                  ErrorKind::kEc2InvalidVpcIdNotFound, "vpc ID"));
  GANTRY_ASSIGN_OR_RETURN(auto vpcs, apply_filters(std::move(chosen), filters, vpc_filters()));
  std::vector<std::string> ids;
  for (const auto& v : vpcs) ids.push_back(v.id);
  GANTRY_ASSIGN_OR_RETURN(auto page, page_of(ids, in, "ec2:DescribeVpcs"));
  protocol::xml::Element out("DescribeVpcsResult");
  auto& set = out.add("vpcSet");
  for (size_t i = page.begin; i < page.end; ++i) encode_vpc(set.add("item"), vpcs[i]);
  if (page.next_token) out.add("nextToken", *page.next_token);
  return out;
}

Out describe_account_attributes(Ec2Store& store, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_dry_run(in));
  std::string default_vpc = "none";
  GANTRY_RETURN_IF_ERROR(store.write([&](Ec2Tables& t) -> Status {
    ensure_default_network(t, ctx.scope);
    for (const auto& v : t.vpcs(ctx.scope))
      if (v.is_default) default_vpc = v.id;
    return {};
  }));
  // The model's enum limits names to these two; without names EC2 answers every attribute it has.
  std::vector<std::string> names = id_list(in, "AttributeNames");
  if (names.empty()) names = {"supported-platforms", "default-vpc"};
  protocol::xml::Element out("DescribeAccountAttributesResult");
  auto& set = out.add("accountAttributeSet");
  for (const auto& name : names) {
    auto& item = set.add("item");
    item.add("attributeName", name);
    auto& values = item.add("attributeValueSet");
    values.add("item").add("attributeValue", name == "default-vpc" ? default_vpc : std::string("VPC"));
  }
  return out;
}

}  // namespace gantry::ec2
