#include "protocol/query_codec.h"

#include <gtest/gtest.h>

#include "api/models.h"

namespace gantry::protocol {
namespace {

namespace json = boost::json;
using Params = std::vector<std::pair<std::string, std::string>>;

class QueryCodec : public ::testing::Test {
 protected:
  static ShapeModel load(std::string_view service) {
    auto m = ShapeModel::parse(api::embedded_model(service));
    EXPECT_TRUE(m.ok());
    return std::move(*m);
  }
  void SetUp() override {
    ec2_ = std::make_unique<ShapeModel>(load("ec2"));
    iam_ = std::make_unique<ShapeModel>(load("iam"));
  }
  Result<json::object> ec2(std::string_view op, const Params& p) { return decode_query_input(*ec2_, op, p, Protocol::kEc2); }
  Result<json::object> iam(std::string_view op, const Params& p) { return decode_query_input(*iam_, op, p, Protocol::kQuery); }

  std::unique_ptr<ShapeModel> ec2_;
  std::unique_ptr<ShapeModel> iam_;
};

TEST_F(QueryCodec, Ec2FlattenedListsInIndexOrder) {
  auto in = ec2("DescribeSubnets", {{"SubnetId.2", "subnet-b"}, {"SubnetId.1", "subnet-a"}, {"SubnetId.10", "subnet-c"}});
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(json::serialize(*in), R"({"SubnetIds":["subnet-a","subnet-b","subnet-c"]})");
}

TEST_F(QueryCodec, Ec2FiltersAndLocationNames) {
  auto in = ec2("DescribeSubnets", {{"Filter.1.Name", "vpc-id"},
                                    {"Filter.1.Value.1", "vpc-1"},
                                    {"Filter.1.Value.2", "vpc-2"},
                                    {"Filter.2.Name", "default-for-az"},
                                    {"Filter.2.Value.1", "true"},
                                    {"MaxResults", "5"},
                                    {"DryRun", "false"},
                                    {"NextToken", "abc"}});
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(json::value(*in), json::parse(R"({"Filters":[{"Name":"vpc-id","Values":["vpc-1","vpc-2"]},
                                             {"Name":"default-for-az","Values":["true"]}],
                                  "MaxResults":5,"DryRun":false,"NextToken":"abc"})"));
  EXPECT_TRUE(ec2_->validate_input("DescribeSubnets", *in).ok());
}

TEST_F(QueryCodec, Ec2QueryNameAndUpperCasedLocationName) {
  // GroupIds' items are named "groupId" in the model, but ec2 lists are flattened under the member's name.
  auto in = ec2("DescribeSecurityGroups", {{"GroupId.1", "sg-1"}, {"GroupName.1", "default"}});
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(json::value(*in), json::parse(R"({"GroupIds":["sg-1"],"GroupNames":["default"]})"));
  // DescribeSpotPriceHistory's StartTime has locationName "startTime": botocore sends "StartTime".
  auto spot = ec2("DescribeSpotPriceHistory", {{"StartTime", "2024-01-02T03:04:05Z"}, {"EndTime", "2024-01-02T03:04:05.5+01:00"}});
  ASSERT_TRUE(spot.ok()) << spot.error().message;
  EXPECT_EQ(spot->at("StartTime").as_double(), 1704164645.0);
  EXPECT_EQ(spot->at("EndTime").as_double(), 1704164645.5 - 3600);
}

TEST_F(QueryCodec, UnknownParametersAreIgnored) {
  auto in = ec2("DescribeVpcs", {{"Bogus", "1"}, {"VpcId.1", "vpc-1"}, {"X-Amz-Date", "20260101T000000Z"}});
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(json::value(*in), json::parse(R"({"VpcIds":["vpc-1"]})"));
}

TEST_F(QueryCodec, BadValuesNameTheParameter) {
  auto bad_int = ec2("DescribeSubnets", {{"MaxResults", "ten"}});
  ASSERT_FALSE(bad_int.ok());
  EXPECT_EQ(bad_int.error().kind, ErrorKind::kValidation);
  EXPECT_EQ(bad_int.error().message, "Value (ten) for parameter MaxResults is invalid. Expected an integer.");
  auto bad_bool = ec2("DescribeSubnets", {{"DryRun", "maybe"}});
  ASSERT_FALSE(bad_bool.ok());
  EXPECT_NE(bad_bool.error().message.find("DryRun"), std::string::npos);
  auto bad_index = ec2("DescribeSubnets", {{"SubnetId.x", "subnet-1"}});
  ASSERT_FALSE(bad_index.ok());
  EXPECT_EQ(bad_index.error().kind, ErrorKind::kValidation);
  EXPECT_NE(bad_index.error().message.find("SubnetId.x"), std::string::npos);
  EXPECT_FALSE(ec2("DescribeSubnets", {{"SubnetId.0", "subnet-1"}}).ok());
  EXPECT_FALSE(ec2("DescribeSubnets", {{"SubnetId.-1", "subnet-1"}}).ok());
  EXPECT_FALSE(ec2("DescribeSubnets", {{"SubnetId.99999999999999999999", "subnet-1"}}).ok());
  auto scalar_with_children = ec2("DescribeSubnets", {{"MaxResults.1", "5"}});
  ASSERT_FALSE(scalar_with_children.ok());
  EXPECT_NE(scalar_with_children.error().message.find("MaxResults"), std::string::npos);
  auto out_of_range = ec2("DescribeSubnets", {{"MaxResults", "99999999999"}});
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_FALSE(ec2("DescribeSpotPriceHistory", {{"StartTime", "yesterday"}}).ok());
}

TEST_F(QueryCodec, ModelConstraintsStillApply) {
  auto in = ec2("DescribeSubnets", {{"MaxResults", "2"}});
  ASSERT_TRUE(in.ok());
  auto st = ec2_->validate_input("DescribeSubnets", *in);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kValidation);
  EXPECT_NE(st.error().message.find("greater than or equal to 5"), std::string::npos);
}

TEST_F(QueryCodec, QueryMemberLists) {
  auto in = iam("CreateRole", {{"RoleName", "r"},
                               {"AssumeRolePolicyDocument", "{}"},
                               {"MaxSessionDuration", "3600"},
                               {"Tags.member.2.Key", "b"},
                               {"Tags.member.2.Value", "2"},
                               {"Tags.member.1.Key", "a"},
                               {"Tags.member.1.Value", "1"}});
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(json::value(*in), json::parse(R"({"RoleName":"r","AssumeRolePolicyDocument":"{}","MaxSessionDuration":3600,
                                  "Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}]})"));
  auto empty = iam("GetAccountAuthorizationDetails", {{"Filter", ""}});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(json::value(*empty), json::parse(R"({"Filter":[]})"));
  auto listed = iam("GetAccountAuthorizationDetails", {{"Filter.member.1", "Role"}, {"Filter.member.2", "User"}});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(json::value(*listed), json::parse(R"({"Filter":["Role","User"]})"));
  // The ec2 spelling is not the query spelling.
  auto flat = iam("GetAccountAuthorizationDetails", {{"Filter.1", "Role"}});
  EXPECT_FALSE(flat.ok());
}

TEST_F(QueryCodec, ReadsActionAndVersionFromQueryStringAndForm) {
  http::Request r;
  r.method = "POST";
  r.target = "/?Action=DescribeVpcs&VpcId.1=vpc-a";
  r.headers.emplace_back("content-type", "application/x-www-form-urlencoded; charset=utf-8");
  r.body = "Version=2016-11-15&Filter.1.Name=is-default&Filter.1.Value.1=true&Name=a%20b+c";
  auto q = read_query_request(r);
  EXPECT_EQ(q.action, "DescribeVpcs");
  EXPECT_EQ(q.version, "2016-11-15");
  ASSERT_EQ(q.params.size(), 4u);
  EXPECT_EQ(q.params[0], (std::pair<std::string, std::string>{"VpcId.1", "vpc-a"}));
  EXPECT_EQ(q.params[3], (std::pair<std::string, std::string>{"Name", "a b c"}));
  // Without a form content type the body is not parameters.
  http::Request plain;
  plain.target = "/";
  plain.body = "Action=DescribeVpcs";
  EXPECT_EQ(read_query_request(plain).action, "");
}

TEST_F(QueryCodec, Namespaces) {
  EXPECT_EQ(xml_namespace(Protocol::kEc2, "ec2", "2016-11-15"), "http://ec2.amazonaws.com/doc/2016-11-15/");
  EXPECT_EQ(xml_namespace(Protocol::kQuery, "iam", "2010-05-08"), "https://iam.amazonaws.com/doc/2010-05-08/");
}

}  // namespace
}  // namespace gantry::protocol
