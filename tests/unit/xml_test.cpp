#include "protocol/xml.h"

#include <gtest/gtest.h>

#include "protocol/query_codec.h"

namespace gantry::protocol {
namespace {

TEST(Xml, NestingAndEmptyElements) {
  xml::Element root("DescribeSubnetsResult");
  auto& set = root.add("subnetSet");
  auto& item = set.add("item");
  item.add("subnetId", "subnet-1");
  item.add("defaultForAz", true);
  item.add("availableIpAddressCount", int64_t{4091});
  item.add("ipv6CidrBlockAssociationSet");
  set.add("item").add("subnetId", "subnet-2");
  EXPECT_EQ(root.str(),
            "<DescribeSubnetsResult><subnetSet><item><subnetId>subnet-1</subnetId><defaultForAz>true</defaultForAz>"
            "<availableIpAddressCount>4091</availableIpAddressCount><ipv6CidrBlockAssociationSet/></item>"
            "<item><subnetId>subnet-2</subnetId></item></subnetSet></DescribeSubnetsResult>");
}

TEST(Xml, ChildReferencesStayValid) {
  xml::Element root("r");
  auto& first = root.add("a");
  for (int i = 0; i < 100; ++i) root.add("b", i);
  first.add("inner", "x");
  EXPECT_EQ(root.str().substr(0, 25), "<r><a><inner>x</inner></a");
}

TEST(Xml, EscapesTextAndAttributes) {
  xml::Element root("m");
  root.attribute("xmlns", "a\"b<&>");
  root.add("t", "<tag> & \"quotes\" 'apos'");
  root.add("ctl", std::string_view("a\x01z\tok\n", 7));
  root.add("utf8", "caf\xC3\xA9 \xFF");
  EXPECT_EQ(root.str(),
            "<m xmlns=\"a&quot;b&lt;&amp;&gt;\"><t>&lt;tag&gt; &amp; &quot;quotes&quot; &apos;apos&apos;</t>"
            "<ctl>a\xEF\xBF\xBDz\tok\n</ctl><utf8>caf\xC3\xA9 \xEF\xBF\xBD</utf8></m>");
}

TEST(Xml, Ec2Envelope) {
  xml::Element result("ignored");
  result.add("vpcSet").add("item").add("vpcId", "vpc-1");
  EXPECT_EQ(ec2_response_body("DescribeVpcs", "http://ec2.amazonaws.com/doc/2016-11-15/", "req-1", result),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-1</requestId>"
            "<vpcSet><item><vpcId>vpc-1</vpcId></item></vpcSet></DescribeVpcsResponse>\n");
}

TEST(Xml, QueryEnvelope) {
  xml::Element result("ignored");
  auto& user = result.add("User");
  user.add("UserName", "alice");
  result.add("IsTruncated", false);
  EXPECT_EQ(query_response_body("GetUser", "https://iam.amazonaws.com/doc/2010-05-08/", "req-2", result),
            "<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserResult><User>"
            "<UserName>alice</UserName></User><IsTruncated>false</IsTruncated></GetUserResult>"
            "<ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata></GetUserResponse>\n");
  // Operations without output have no Result element.
  EXPECT_EQ(query_response_body("DeleteUser", "", "req-3", xml::Element("x")),
            "<DeleteUserResponse><ResponseMetadata><RequestId>req-3</RequestId></ResponseMetadata>"
            "</DeleteUserResponse>\n");
  auto r = xml_response(Protocol::kQuery, "DeleteUser", "", "req-3", xml::Element("x"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, query_response_body("DeleteUser", "", "req-3", xml::Element("x")));
}

}  // namespace
}  // namespace gantry::protocol
