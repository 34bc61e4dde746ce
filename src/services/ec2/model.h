// EC2 networking domain types (the default VPC, its subnets and security group) and the
// transaction-scoped view of their storage (Ec2Tables). Only sqlite_tables.cpp knows how they are stored.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/arn.h"
#include "core/error.h"
#include "store/database.h"

namespace gantry::ec2 {

struct Tag {
  std::string key;
  std::string value;
};

struct Vpc {
  std::string id;  // vpc-<17 hex>
  std::string account;
  std::string region;
  std::string cidr_block;                // 172.31.0.0/16 for a default VPC
  std::string cidr_association_id;       // vpc-cidr-assoc-<17 hex>
  std::string dhcp_options_id;           // dopt-<17 hex>
  std::string internet_gateway_id;       // igw-<17 hex>; empty when none is attached
  std::string state = "available";       // pending | available
  std::string instance_tenancy = "default";
  bool is_default = false;
  std::vector<Tag> tags;
};

struct Subnet {
  std::string id;  // subnet-<17 hex>
  std::string account;
  std::string region;
  std::string vpc_id;
  std::string cidr_block;
  std::string availability_zone;     // us-east-1a
  std::string availability_zone_id;  // use1-az1
  int64_t available_ip_address_count = 0;
  bool default_for_az = false;
  bool map_public_ip_on_launch = false;
  std::string state = "available";
  std::vector<Tag> tags;

  std::string arn() const;  // arn:aws:ec2:<region>:<account>:subnet/<id>
};

// One rule of a security group: a protocol ("-1" is all traffic), an optional port range and the
// sources (ingress) or destinations (egress) it allows.
struct SecurityGroupRule {
  std::string ip_protocol = "-1";
  std::optional<int64_t> from_port;
  std::optional<int64_t> to_port;
  std::vector<std::string> ipv4_ranges;  // CIDR blocks
  std::vector<std::string> group_ids;    // security groups of the same account
};

struct SecurityGroup {
  std::string id;  // sg-<17 hex>
  std::string account;
  std::string region;
  std::string vpc_id;
  std::string name;
  std::string description;
  std::vector<SecurityGroupRule> ingress;
  std::vector<SecurityGroupRule> egress;
  std::vector<Tag> tags;

  std::string arn() const;  // arn:aws:ec2:<region>:<account>:security-group/<id>
};

// One transaction's view of EC2 state. Valid only inside Ec2Store::read/write. Listings are in id order.
class Ec2Tables {
 public:
  virtual ~Ec2Tables() = default;

  // Whether the default network of the scope was created (it is created once; a reset forgets it).
  virtual bool has_default_network(const Scope& scope) = 0;
  virtual void mark_default_network(const Scope& scope) = 0;

  virtual void put_vpc(const Vpc& vpc) = 0;
  virtual void put_subnet(const Subnet& subnet) = 0;
  virtual void put_security_group(const SecurityGroup& group) = 0;

  virtual std::vector<Vpc> vpcs(const Scope& scope) = 0;
  virtual std::vector<Subnet> subnets(const Scope& scope) = 0;
  virtual std::vector<SecurityGroup> security_groups(const Scope& scope) = 0;
};

using TablesFn = std::function<Status(Ec2Tables&)>;

// Runs EC2 work in transactions. write() commits only when fn succeeds.
class Ec2Store {
 public:
  virtual ~Ec2Store() = default;
  virtual Status read(const TablesFn& fn) = 0;
  virtual Status write(const TablesFn& fn) = 0;
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<Ec2Store> make_sqlite_store(store::Database& db);

}  // namespace gantry::ec2
