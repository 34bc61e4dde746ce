// DescribeSecurityGroups.
#include <fmt/format.h>

#include <algorithm>

#include "services/ec2/default_network.h"
#include "services/ec2/handlers.h"

namespace gantry::ec2 {

namespace {

using V = std::vector<std::string>;

V rule_values(const std::vector<SecurityGroupRule>& rules, std::string_view what) {
  V out;
  for (const auto& r : rules) {
    if (what == "protocol") out.push_back(r.ip_protocol);
    if (what == "cidr") out.insert(out.end(), r.ipv4_ranges.begin(), r.ipv4_ranges.end());
    if (what == "group-id") out.insert(out.end(), r.group_ids.begin(), r.group_ids.end());
    if (what == "from-port" && r.from_port) out.push_back(std::to_string(*r.from_port));
    if (what == "to-port" && r.to_port) out.push_back(std::to_string(*r.to_port));
  }
  return out;
}

const std::vector<FilterField<SecurityGroup>>& group_filters() {
  static const std::vector<FilterField<SecurityGroup>> fields = {
      {"group-id", [](const SecurityGroup& g) { return V{g.id}; }},
      {"group-name", [](const SecurityGroup& g) { return V{g.name}; }},
      {"description", [](const SecurityGroup& g) { return V{g.description}; }},
      {"vpc-id", [](const SecurityGroup& g) { return V{g.vpc_id}; }},
      {"owner-id", [](const SecurityGroup& g) { return V{g.account}; }},
      {"ip-permission.protocol", [](const SecurityGroup& g) { return rule_values(g.ingress, "protocol"); }},
      {"ip-permission.cidr", [](const SecurityGroup& g) { return rule_values(g.ingress, "cidr"); }},
      {"ip-permission.group-id", [](const SecurityGroup& g) { return rule_values(g.ingress, "group-id"); }},
      {"ip-permission.from-port", [](const SecurityGroup& g) { return rule_values(g.ingress, "from-port"); }},
      {"ip-permission.to-port", [](const SecurityGroup& g) { return rule_values(g.ingress, "to-port"); }},
      {"egress.ip-permission.protocol", [](const SecurityGroup& g) { return rule_values(g.egress, "protocol"); }},
      {"egress.ip-permission.cidr", [](const SecurityGroup& g) { return rule_values(g.egress, "cidr"); }},
      {"egress.ip-permission.group-id", [](const SecurityGroup& g) { return rule_values(g.egress, "group-id"); }},
      {"egress.ip-permission.from-port", [](const SecurityGroup& g) { return rule_values(g.egress, "from-port"); }},
      {"egress.ip-permission.to-port", [](const SecurityGroup& g) { return rule_values(g.egress, "to-port"); }},
  };
  return fields;
}

void encode_rules(protocol::xml::Element& set, const std::vector<SecurityGroupRule>& rules, std::string_view owner) {
  for (const auto& r : rules) {
    auto& item = set.add("item");
    item.add("ipProtocol", r.ip_protocol);
    if (r.from_port) item.add("fromPort", *r.from_port);
    if (r.to_port) item.add("toPort", *r.to_port);
    auto& groups = item.add("groups");
    for (const auto& id : r.group_ids) {
      auto& pair = groups.add("item");
      pair.add("userId", owner);
      pair.add("groupId", id);
    }
    auto& ranges = item.add("ipRanges");
    for (const auto& cidr : r.ipv4_ranges) ranges.add("item").add("cidrIp", cidr);
    item.add("ipv6Ranges");
    item.add("prefixListIds");
  }
}

void encode_group(protocol::xml::Element& item, const SecurityGroup& g) {
  item.add("ownerId", g.account);
  item.add("groupId", g.id);
  item.add("groupName", g.name);
  item.add("groupDescription", g.description);
  item.add("vpcId", g.vpc_id);
  item.add("securityGroupArn", g.arn());
  encode_rules(item.add("ipPermissions"), g.ingress, g.account);
  encode_rules(item.add("ipPermissionsEgress"), g.egress, g.account);
  encode_tags(item, g.tags);
}

}  // namespace

Out describe_security_groups(Ec2Store& store, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_dry_run(in));
  GANTRY_ASSIGN_OR_RETURN(auto filters, parse_filters(in));
  std::vector<SecurityGroup> all;
  std::string default_vpc;
  GANTRY_RETURN_IF_ERROR(store.write([&](Ec2Tables& t) -> Status {
    ensure_default_network(t, ctx.scope);
    all = t.security_groups(ctx.scope);
    for (const auto& v : t.vpcs(ctx.scope))
      if (v.is_default) default_vpc = v.id;
    return {};
  }));
  GANTRY_ASSIGN_OR_RETURN(auto chosen, select_ids(std::move(all), id_list(in, "GroupIds"), "sg-",
                                                  ErrorKind::kEc2InvalidGroupIdMalformed,
                                                  ErrorKind::kEc2InvalidGroupNotFound, "security group"));
  // GroupNames name groups of the default VPC (EC2-Classic, where names were global, is gone).
  auto names = id_list(in, "GroupNames");
  if (!names.empty()) {
    std::vector<SecurityGroup> named;
    for (const auto& name : names) {
      bool found = false;
      for (const auto& g : chosen)
        if (g.name == name && g.vpc_id == default_vpc) {
          named.push_back(g);
          found = true;
        }
      if (!found)
        return make_error(ErrorKind::kEc2InvalidGroupNotFound,
                          fmt::format("The security group '{}' does not exist in default VPC '{}'", name.substr(0, 255),
                                      default_vpc));
    }
    std::sort(named.begin(), named.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    chosen = std::move(named);
  }
  GANTRY_ASSIGN_OR_RETURN(auto groups, apply_filters(std::move(chosen), filters, group_filters()));
  std::vector<std::string> ids;
  for (const auto& g : groups) ids.push_back(g.id);
  GANTRY_ASSIGN_OR_RETURN(auto page, page_of(ids, in, "ec2:DescribeSecurityGroups"));
  protocol::xml::Element out("DescribeSecurityGroupsResult");
  auto& set = out.add("securityGroupInfo");
  for (size_t i = page.begin; i < page.end; ++i) encode_group(set.add("item"), groups[i]);
  if (page.next_token) out.add("nextToken", *page.next_token);
  return out;
}

}  // namespace gantry::ec2
