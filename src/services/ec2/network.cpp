#include "services/ec2/network.h"

#include <algorithm>

#include "services/ec2/default_network.h"
#include "services/ec2/handlers.h"

namespace gantry::ec2 {

namespace {

// `items` in the order of `ids` (select_ids answers in id order).
template <class T>
std::vector<T> in_request_order(std::vector<T> items, const std::vector<std::string>& ids) {
  std::vector<T> out;
  for (const auto& id : ids)
    for (auto& item : items)
      if (item.id == id) out.push_back(item);
  return out;
}

std::vector<std::string> unique(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids)
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  return out;
}

}  // namespace

Result<std::vector<Subnet>> Network::find_subnets(const Scope& scope, const std::vector<std::string>& ids) {
  std::vector<Subnet> all;
  GANTRY_RETURN_IF_ERROR(store_.write([&](Ec2Tables& t) -> Status {
    ensure_default_network(t, scope);
    all = t.subnets(scope);
    return {};
  }));
  auto wanted = unique(ids);
  if (wanted.empty()) return std::vector<Subnet>{};
  GANTRY_ASSIGN_OR_RETURN(auto found, select_ids(std::move(all), wanted, "subnet-", ErrorKind::kEc2InvalidSubnetIdMalformed,
                                                 ErrorKind::kEc2InvalidSubnetIdNotFound, "subnet ID"));
  return in_request_order(std::move(found), wanted);
}

Result<std::vector<SecurityGroup>> Network::find_security_groups(const Scope& scope,
                                                                 const std::vector<std::string>& ids) {
  std::vector<SecurityGroup> all;
  GANTRY_RETURN_IF_ERROR(store_.write([&](Ec2Tables& t) -> Status {
    ensure_default_network(t, scope);
    all = t.security_groups(scope);
    return {};
  }));
  auto wanted = unique(ids);
  if (wanted.empty()) return std::vector<SecurityGroup>{};
  GANTRY_ASSIGN_OR_RETURN(auto found, select_ids(std::move(all), wanted, "sg-", ErrorKind::kEc2InvalidGroupIdMalformed,
                                                 ErrorKind::kEc2InvalidGroupNotFound, "security group"));
  return in_request_order(std::move(found), wanted);
}

}  // namespace gantry::ec2
