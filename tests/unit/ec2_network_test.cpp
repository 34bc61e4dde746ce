#include <gtest/gtest.h>

#include <regex>

#include "services/ec2/default_network.h"
#include "services/ec2/handlers.h"
#include "services/ec2/network.h"
#include "store/database.h"

namespace gantry::ec2 {
namespace {

class Ec2Network : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(":memory:", sqlite_migrations());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    store_ = make_sqlite_store(*db_);
    network_ = std::make_unique<Network>(*store_);
  }
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Ec2Store> store_;
  std::unique_ptr<Network> network_;
  Scope east{"000000000000", "us-east-1"};
  Scope west{"000000000000", "us-west-2"};
};

TEST_F(Ec2Network, DefaultNetworkShape) {
  auto n = default_network(east);
  EXPECT_TRUE(std::regex_match(n.vpc.id, std::regex("vpc-[0-9a-f]{17}"))) << n.vpc.id;
  EXPECT_TRUE(std::regex_match(n.security_group.id, std::regex("sg-[0-9a-f]{17}")));
  EXPECT_TRUE(std::regex_match(n.vpc.internet_gateway_id, std::regex("igw-[0-9a-f]{17}")));
  EXPECT_EQ(n.vpc.cidr_block, "172.31.0.0/16");
  EXPECT_TRUE(n.vpc.is_default);
  ASSERT_EQ(n.subnets.size(), 3u);
  const char* cidrs[] = {"172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"};
  const char* zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};
  const char* zone_ids[] = {"use1-az1", "use1-az2", "use1-az3"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::regex_match(n.subnets[i].id, std::regex("subnet-[0-9a-f]{17}")));
    EXPECT_EQ(n.subnets[i].cidr_block, cidrs[i]);
    EXPECT_EQ(n.subnets[i].availability_zone, zones[i]);
    EXPECT_EQ(n.subnets[i].availability_zone_id, zone_ids[i]);
    EXPECT_EQ(n.subnets[i].vpc_id, n.vpc.id);
    EXPECT_TRUE(n.subnets[i].default_for_az);
    EXPECT_EQ(n.subnets[i].available_ip_address_count, 4091);
  }
  EXPECT_EQ(n.subnets[0].arn(), "arn:aws:ec2:us-east-1:000000000000:subnet/" + n.subnets[0].id);
  EXPECT_EQ(n.security_group.name, "default");
  ASSERT_EQ(n.security_group.ingress.size(), 1u);
  EXPECT_EQ(n.security_group.ingress[0].group_ids, std::vector<std::string>{n.security_group.id});
  ASSERT_EQ(n.security_group.egress.size(), 1u);
  EXPECT_EQ(n.security_group.egress[0].ipv4_ranges, std::vector<std::string>{"0.0.0.0/0"});
  // Deterministic per account and region, different across them.
  EXPECT_EQ(default_network(east).vpc.id, n.vpc.id);
  EXPECT_NE(default_network(west).vpc.id, n.vpc.id);
  EXPECT_NE(default_network(Scope{"111111111111", "us-east-1"}).vpc.id, n.vpc.id);
}

TEST_F(Ec2Network, ZoneIds) {
  EXPECT_EQ(availability_zones("us-west-2")[1].id, "usw2-az2");
  EXPECT_EQ(availability_zones("us-west-2")[1].name, "us-west-2b");
  EXPECT_EQ(availability_zones("ap-southeast-2")[0].id, "apse2-az1");
  EXPECT_EQ(availability_zones("eu-central-1")[2].id, "euc1-az3");
  EXPECT_EQ(availability_zones("us-gov-west-1")[0].id, "usgw1-az1");
}

TEST_F(Ec2Network, FindSubnetsInRequestOrder) {
  auto n = default_network(east);
  auto found = network_->find_subnets(east, {n.subnets[2].id, n.subnets[0].id, n.subnets[2].id});
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].id, n.subnets[2].id);
  EXPECT_EQ((*found)[0].availability_zone, "us-east-1c");
  EXPECT_EQ((*found)[1].id, n.subnets[0].id);
  EXPECT_EQ((*found)[1].vpc_id, n.vpc.id);
  auto none = network_->find_subnets(east, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(Ec2Network, UnknownAndMalformedSubnets) {
  auto n = default_network(east);
  auto missing = network_->find_subnets(east, {n.subnets[0].id, "subnet-x"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kEc2InvalidSubnetIdNotFound);
  EXPECT_EQ(missing.error().message, "The subnet ID 'subnet-x' does not exist");
  auto two = network_->find_subnets(east, {"subnet-1", "subnet-2"});
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().message, "The subnet IDs 'subnet-1, subnet-2' do not exist");
  auto malformed = network_->find_subnets(east, {"sg-123"});
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().kind, ErrorKind::kEc2InvalidSubnetIdMalformed);
  // Another region's subnets are not this region's.
  auto other_region = network_->find_subnets(west, {n.subnets[0].id});
  ASSERT_FALSE(other_region.ok());
  EXPECT_EQ(other_region.error().kind, ErrorKind::kEc2InvalidSubnetIdNotFound);
}

TEST_F(Ec2Network, SecurityGroups) {
  auto n = default_network(west);
  auto found = network_->find_security_groups(west, {n.security_group.id});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].vpc_id, n.vpc.id);
  EXPECT_EQ((*found)[0].egress.size(), 1u);
  auto missing = network_->find_security_groups(west, {"sg-0000"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kEc2InvalidGroupNotFound);
}

TEST_F(Ec2Network, CreatedOnceAndAgainAfterAWipe) {
  ASSERT_TRUE(network_->find_subnets(east, {}).ok());
  int vpcs = 0;
  ASSERT_TRUE(store_->read([&](Ec2Tables& t) -> Status {
    vpcs = static_cast<int>(t.vpcs(east).size());
    EXPECT_EQ(t.subnets(east).size(), 3u);
    EXPECT_TRUE(t.vpcs(west).empty());
    return {};
  }).ok());
  EXPECT_EQ(vpcs, 1);
  ASSERT_TRUE(network_->find_subnets(east, {}).ok());
  ASSERT_TRUE(db_->wipe().ok());
  auto again = network_->find_subnets(east, {default_network(east).subnets[1].id});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].availability_zone, "us-east-1b");
}

TEST(Ec2Paging, MaxResultsAndNextToken) {
  std::vector<std::string> ids = {"a", "b", "c", "d", "e", "f", "g"};
  auto all = page_of(ids, boost::json::object{}, "ec2:Test");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->begin, 0u);
  EXPECT_EQ(all->end, 7u);
  EXPECT_FALSE(all->next_token);
  auto first = page_of(ids, boost::json::object{{"MaxResults", 5}}, "ec2:Test");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->end, 5u);
  ASSERT_TRUE(first->next_token);
  auto second = page_of(ids, boost::json::object{{"MaxResults", 5}, {"NextToken", *first->next_token}}, "ec2:Test");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->begin, 5u);
  EXPECT_EQ(second->end, 7u);
  EXPECT_FALSE(second->next_token);
  auto other_listing = page_of(ids, boost::json::object{{"NextToken", *first->next_token}}, "ec2:Other");
  ASSERT_FALSE(other_listing.ok());
  EXPECT_EQ(other_listing.error().kind, ErrorKind::kEc2InvalidPaginationToken);
}

TEST(Ec2Filters, Wildcards) {
  EXPECT_TRUE(wildcard_match("us-east-1*", "us-east-1a"));
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("subnet-?b*", "subnet-ab12"));
  EXPECT_FALSE(wildcard_match("subnet-?b*", "subnet-a12"));
  EXPECT_TRUE(wildcard_match("a\\*b", "a*b"));
  EXPECT_FALSE(wildcard_match("a\\*b", "axb"));
  EXPECT_TRUE(wildcard_match("*-1c", "us-east-1c"));
  EXPECT_FALSE(wildcard_match("vpc-1", "vpc-12"));
}

TEST(Ec2Filters, ApplyAndsNamesAndOrsValues) {
  struct Item {
    std::string id;
    std::string zone;
    std::vector<Tag> tags;
  };
  std::vector<FilterField<Item>> fields = {{"id", [](const Item& i) { return std::vector<std::string>{i.id}; }},
                                           {"zone", [](const Item& i) { return std::vector<std::string>{i.zone}; }}};
  std::vector<Item> items = {{"a", "z1", {{"Name", "web"}}}, {"b", "z2", {}}, {"c", "z1", {}}};
  auto r = apply_filters(items, {{"zone", {"z1", "z9"}}, {"id", {"a", "b"}}}, fields);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, "a");
  auto tagged = apply_filters(items, {{"tag:Name", {"w*"}}}, fields);
  ASSERT_TRUE(tagged.ok());
  ASSERT_EQ(tagged->size(), 1u);
  auto bad = apply_filters(items, {{"colour", {"red"}}}, fields);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kEc2InvalidParameterValue);
  EXPECT_EQ(bad.error().message, "The filter 'colour' is invalid");
}

}  // namespace
}  // namespace gantry::ec2
