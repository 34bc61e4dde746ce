#include "services/ec2/default_network.h"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace gantry::ec2 {

namespace {

// us-east-1 → use1, ap-southeast-2 → apse2, us-gov-west-1 → usgw1: the prefix of AWS zone ids.
std::string short_region(std::string_view region) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= region.size()) {
    size_t dash = region.find('-', start);
    if (dash == std::string_view::npos) dash = region.size();
    parts.push_back(region.substr(start, dash - start));
    start = dash + 1;
  }
  if (parts.size() < 3) return std::string(region);
  std::string out(parts.front());
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p == "gov") out += 'g';
    else if (p == "northeast") out += "ne";
    else if (p == "southeast") out += "se";
    else if (p == "northwest") out += "nw";
    else if (p == "southwest") out += "sw";
    else if (!p.empty()) out += p.front();
  }
  out += parts.back();
  return out;
}

}  // namespace

std::vector<AvailabilityZone> availability_zones(std::string_view region) {
  std::vector<AvailabilityZone> out;
  std::string prefix = short_region(region);
  for (int i = 0; i < 3; ++i)
    out.push_back(AvailabilityZone{fmt::format("{}{}", region, static_cast<char>('a' + i)),
                                   fmt::format("{}-az{}", prefix, i + 1), std::string(region)});
  return out;
}

std::string derived_id(std::string_view prefix, std::string_view seed) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(seed.data(), seed.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out(prefix);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; out.size() < prefix.size() + 17 && i < len; ++i) {
    out += kHex[digest[i] >> 4];
    if (out.size() < prefix.size() + 17) out += kHex[digest[i] & 0xF];
  }
  return out;
}

DefaultNetwork default_network(const Scope& scope) {
  auto id = [&](std::string_view prefix, std::string_view what) {
    return derived_id(prefix, fmt::format("gantry/default-network/{}/{}/{}", scope.account, scope.region, what));
  };
  DefaultNetwork n;
  n.vpc.id = id("vpc-", "vpc");
  n.vpc.account = scope.account;
  n.vpc.region = scope.region;
  n.vpc.cidr_block = "172.31.0.0/16";
  n.vpc.cidr_association_id = id("vpc-cidr-assoc-", "vpc-cidr-assoc");
  n.vpc.dhcp_options_id = id("dopt-", "dhcp-options");
  n.vpc.internet_gateway_id = id("igw-", "internet-gateway");
  n.vpc.is_default = true;
  int i = 0;
  for (const auto& zone : availability_zones(scope.region)) {
    Subnet s;
    s.id = id("subnet-", "subnet/" + zone.name);
    s.account = scope.account;
    s.region = scope.region;
    s.vpc_id = n.vpc.id;
    s.cidr_block = fmt::format("172.31.{}.0/20", 16 * i++);
    s.availability_zone = zone.name;
    s.availability_zone_id = zone.id;
    s.available_ip_address_count = 4096 - 5;  // AWS reserves five addresses of every subnet
    s.default_for_az = true;
    s.map_public_ip_on_launch = true;
    n.subnets.push_back(std::move(s));
  }
  auto& g = n.security_group;
  g.id = id("sg-", "security-group/default");
  g.account = scope.account;
  g.region = scope.region;
  g.vpc_id = n.vpc.id;
  g.name = "default";
  g.description = "default VPC security group";
  SecurityGroupRule from_itself;
  from_itself.group_ids.push_back(g.id);
  g.ingress.push_back(std::move(from_itself));
  SecurityGroupRule anywhere;
  anywhere.ipv4_ranges.push_back("0.0.0.0/0");
  g.egress.push_back(std::move(anywhere));
  return n;
}

void ensure_default_network(Ec2Tables& tables, const Scope& scope) {
  if (tables.has_default_network(scope)) return;
  DefaultNetwork n = default_network(scope);
  tables.put_vpc(n.vpc);
  for (const auto& s : n.subnets) tables.put_subnet(s);
  tables.put_security_group(n.security_group);
  tables.mark_default_network(scope);
}

}  // namespace gantry::ec2
