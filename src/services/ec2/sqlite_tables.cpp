// SQLite storage of EC2 networking state. Lists (tags, security group rules) are stored as JSON text.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "services/ec2/model.h"
#include "store/service_store.h"

namespace gantry::ec2 {

namespace json = boost::json;

namespace {

json::value parse_or(const std::string& text, json::value fallback) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? fallback : v;
}

std::string tags_text(const std::vector<Tag>& tags) {
  json::array a;
  for (const auto& t : tags) a.push_back(json::object{{"key", t.key}, {"value", t.value}});
  return json::serialize(a);
}

std::vector<Tag> read_tags(const std::string& text) {
  std::vector<Tag> out;
  auto v = parse_or(text, json::array());
  if (!v.is_array()) return out;
  for (const auto& t : v.as_array()) {
    if (!t.is_object()) continue;
    const auto& o = t.as_object();
    auto* k = o.if_contains("key");
    auto* val = o.if_contains("value");
    if (k && k->is_string() && val && val->is_string()) out.push_back(Tag{std::string(k->as_string()), std::string(val->as_string())});
  }
  return out;
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::vector<std::string> read_strings(const json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& s : v->as_array())
    if (s.is_string()) out.emplace_back(s.as_string());
  return out;
}

std::string rules_text(const std::vector<SecurityGroupRule>& rules) {
  json::array a;
  for (const auto& r : rules) {
    json::object o{{"protocol", r.ip_protocol}, {"ranges", strings(r.ipv4_ranges)}, {"groups", strings(r.group_ids)}};
    if (r.from_port) o["from"] = *r.from_port;
    if (r.to_port) o["to"] = *r.to_port;
    a.push_back(std::move(o));
  }
  return json::serialize(a);
}

std::vector<SecurityGroupRule> read_rules(const std::string& text) {
  std::vector<SecurityGroupRule> out;
  auto v = parse_or(text, json::array());
  if (!v.is_array()) return out;
  for (const auto& item : v.as_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    SecurityGroupRule r;
    if (auto* p = o.if_contains("protocol"); p && p->is_string()) r.ip_protocol = std::string(p->as_string());
    if (auto* f = o.if_contains("from"); f && f->is_int64()) r.from_port = f->as_int64();
    if (auto* t = o.if_contains("to"); t && t->is_int64()) r.to_port = t->as_int64();
    r.ipv4_ranges = read_strings(o.if_contains("ranges"));
    r.group_ids = read_strings(o.if_contains("groups"));
    out.push_back(std::move(r));
  }
  return out;
}

constexpr std::string_view kVpcColumns =
    "id, account, region, cidr_block, cidr_association_id, dhcp_options_id, internet_gateway_id, state, "
    "instance_tenancy, is_default, tags";
constexpr std::string_view kSubnetColumns =
    "id, account, region, vpc_id, cidr_block, availability_zone, availability_zone_id, available_ips, "
    "default_for_az, map_public_ip, state, tags";
constexpr std::string_view kGroupColumns = "id, account, region, vpc_id, name, description, ingress, egress, tags";

class SqliteTables final : public Ec2Tables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  bool has_default_network(const Scope& scope) override {
    auto q = tx_.prepare("SELECT 1 FROM ec2_default_networks WHERE account = ?1 AND region = ?2");
    q.bind(1, scope.account).bind(2, scope.region);
    return q.step();
  }

  void mark_default_network(const Scope& scope) override {
    tx_.prepare("INSERT OR IGNORE INTO ec2_default_networks (account, region) VALUES (?1, ?2)")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .run();
  }

  void put_vpc(const Vpc& v) override {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO ec2_vpcs ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                            kVpcColumns))
        .bind(1, v.id)
        .bind(2, v.account)
        .bind(3, v.region)
        .bind(4, v.cidr_block)
        .bind(5, v.cidr_association_id)
        .bind(6, v.dhcp_options_id)
        .bind(7, v.internet_gateway_id)
        .bind(8, v.state)
        .bind(9, v.instance_tenancy)
        .bind(10, static_cast<int64_t>(v.is_default))
        .bind(11, tags_text(v.tags))
        .run();
  }

  void put_subnet(const Subnet& s) override {
    tx_.prepare(fmt::format(
                    "INSERT OR REPLACE INTO ec2_subnets ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    kSubnetColumns))
        .bind(1, s.id)
        .bind(2, s.account)
        .bind(3, s.region)
        .bind(4, s.vpc_id)
        .bind(5, s.cidr_block)
        .bind(6, s.availability_zone)
        .bind(7, s.availability_zone_id)
        .bind(8, s.available_ip_address_count)
        .bind(9, static_cast<int64_t>(s.default_for_az))
        .bind(10, static_cast<int64_t>(s.map_public_ip_on_launch))
        .bind(11, s.state)
        .bind(12, tags_text(s.tags))
        .run();
  }

  void put_security_group(const SecurityGroup& g) override {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO ec2_security_groups ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                            kGroupColumns))
        .bind(1, g.id)
        .bind(2, g.account)
        .bind(3, g.region)
        .bind(4, g.vpc_id)
        .bind(5, g.name)
        .bind(6, g.description)
        .bind(7, rules_text(g.ingress))
        .bind(8, rules_text(g.egress))
        .bind(9, tags_text(g.tags))
        .run();
  }

  std::vector<Vpc> vpcs(const Scope& scope) override {
    auto q = tx_.prepare(
        fmt::format("SELECT {} FROM ec2_vpcs WHERE account = ?1 AND region = ?2 ORDER BY id", kVpcColumns));
    q.bind(1, scope.account).bind(2, scope.region);
    std::vector<Vpc> out;
    while (q.step()) {
      Vpc v;
      v.id = q.text(0);
      v.account = q.text(1);
      v.region = q.text(2);
      v.cidr_block = q.text(3);
      v.cidr_association_id = q.text(4);
      v.dhcp_options_id = q.text(5);
      v.internet_gateway_id = q.text(6);
      v.state = q.text(7);
      v.instance_tenancy = q.text(8);
      v.is_default = q.integer(9) != 0;
      v.tags = read_tags(q.text(10));
      out.push_back(std::move(v));
    }
    return out;
  }

  std::vector<Subnet> subnets(const Scope& scope) override {
    auto q = tx_.prepare(
        fmt::format("SELECT {} FROM ec2_subnets WHERE account = ?1 AND region = ?2 ORDER BY id", kSubnetColumns));
    q.bind(1, scope.account).bind(2, scope.region);
    std::vector<Subnet> out;
    while (q.step()) {
      Subnet s;
      s.id = q.text(0);
      s.account = q.text(1);
      s.region = q.text(2);
      s.vpc_id = q.text(3);
      s.cidr_block = q.text(4);
      s.availability_zone = q.text(5);
      s.availability_zone_id = q.text(6);
      s.available_ip_address_count = q.integer(7);
      s.default_for_az = q.integer(8) != 0;
      s.map_public_ip_on_launch = q.integer(9) != 0;
      s.state = q.text(10);
      s.tags = read_tags(q.text(11));
      out.push_back(std::move(s));
    }
    return out;
  }

  std::vector<SecurityGroup> security_groups(const Scope& scope) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ec2_security_groups WHERE account = ?1 AND region = ?2 ORDER BY id", kGroupColumns));
    q.bind(1, scope.account).bind(2, scope.region);
    std::vector<SecurityGroup> out;
    while (q.step()) {
      SecurityGroup g;
      g.id = q.text(0);
      g.account = q.text(1);
      g.region = q.text(2);
      g.vpc_id = q.text(3);
      g.name = q.text(4);
      g.description = q.text(5);
      g.ingress = read_rules(q.text(6));
      g.egress = read_rules(q.text(7));
      g.tags = read_tags(q.text(8));
      out.push_back(std::move(g));
    }
    return out;
  }

 private:
  store::Tx& tx_;
};


}  // namespace

std::vector<store::Migration> sqlite_migrations() {
  return {{"ec2", 1, R"sql(
CREATE TABLE ec2_default_networks (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  PRIMARY KEY (account, region)
);
CREATE TABLE ec2_vpcs (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  cidr_block TEXT NOT NULL,
  cidr_association_id TEXT NOT NULL,
  dhcp_options_id TEXT NOT NULL,
  internet_gateway_id TEXT NOT NULL,
  state TEXT NOT NULL,
  instance_tenancy TEXT NOT NULL,
  is_default INTEGER NOT NULL,
  tags TEXT NOT NULL
);
CREATE INDEX ec2_vpcs_scope ON ec2_vpcs (account, region, id);
CREATE TABLE ec2_subnets (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  vpc_id TEXT NOT NULL,
  cidr_block TEXT NOT NULL,
  availability_zone TEXT NOT NULL,
  availability_zone_id TEXT NOT NULL,
  available_ips INTEGER NOT NULL,
  default_for_az INTEGER NOT NULL,
  map_public_ip INTEGER NOT NULL,
  state TEXT NOT NULL,
  tags TEXT NOT NULL
);
CREATE INDEX ec2_subnets_scope ON ec2_subnets (account, region, id);
CREATE TABLE ec2_security_groups (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  vpc_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  ingress TEXT NOT NULL,
  egress TEXT NOT NULL,
  tags TEXT NOT NULL,
  UNIQUE (account, region, vpc_id, name)
);
CREATE INDEX ec2_security_groups_scope ON ec2_security_groups (account, region, id);
)sql"}};
}

std::unique_ptr<Ec2Store> make_sqlite_store(store::Database& db) { return std::make_unique<store::TransactionalStore<Ec2Store, SqliteTables, TablesFn, Status>>(db); }

}  // namespace gantry::ec2
