"""EC2's default VPC: DescribeVpcs, DescribeSubnets, DescribeSecurityGroups, DescribeAvailabilityZones and
DescribeAccountAttributes over the ec2 protocol, with boto3 and the aws CLI. Every account and region has a
default VPC from the first request on, with ids that survive restarts and resets."""
import json
import re
import unittest
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError

from harness import ServerTestCase, raw_signed

FORM = "application/x-www-form-urlencoded; charset=utf-8"
EC2_NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


class DefaultVpcTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ec2 = self.server.client("ec2")

    def default_vpc(self, client=None):
        vpcs = (client or self.ec2).describe_vpcs()["Vpcs"]
        self.assertEqual(len(vpcs), 1, vpcs)
        return vpcs[0]

    def test_default_vpc(self):
        vpc = self.default_vpc()
        self.assertRegex(vpc["VpcId"], r"^vpc-[0-9a-f]{17}$")
        self.assertTrue(vpc["IsDefault"])
        self.assertEqual(vpc["CidrBlock"], "172.31.0.0/16")
        self.assertEqual(vpc["State"], "available")
        self.assertEqual(vpc["OwnerId"], "000000000000")
        self.assertEqual(vpc["InstanceTenancy"], "default")
        self.assertRegex(vpc["DhcpOptionsId"], r"^dopt-[0-9a-f]{17}$")
        assoc = vpc["CidrBlockAssociationSet"]
        self.assertEqual(len(assoc), 1)
        self.assertEqual(assoc[0]["CidrBlock"], "172.31.0.0/16")
        self.assertEqual(assoc[0]["CidrBlockState"]["State"], "associated")
        attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
                 for a in self.ec2.describe_account_attributes()["AccountAttributes"]}
        self.assertEqual(attrs["default-vpc"], [vpc["VpcId"]])
        self.assertEqual(attrs["supported-platforms"], ["VPC"])
        only = self.ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
        self.assertEqual([a["AttributeName"] for a in only], ["default-vpc"])

    def test_default_subnets(self):
        vpc_id = self.default_vpc()["VpcId"]
        subnets = sorted(self.ec2.describe_subnets()["Subnets"], key=lambda s: s["AvailabilityZone"])
        self.assertEqual([s["AvailabilityZone"] for s in subnets], ["us-east-1a", "us-east-1b", "us-east-1c"])
        self.assertEqual([s["AvailabilityZoneId"] for s in subnets], ["use1-az1", "use1-az2", "use1-az3"])
        self.assertEqual([s["CidrBlock"] for s in subnets], ["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"])
        for s in subnets:
            self.assertRegex(s["SubnetId"], r"^subnet-[0-9a-f]{17}$")
            self.assertEqual(s["VpcId"], vpc_id)
            self.assertTrue(s["DefaultForAz"])
            self.assertTrue(s["MapPublicIpOnLaunch"])
            self.assertEqual(s["State"], "available")
            self.assertEqual(s["AvailableIpAddressCount"], 4091)
            self.assertEqual(s["SubnetArn"], f"arn:aws:ec2:us-east-1:000000000000:subnet/{s['SubnetId']}")
        self.assertEqual(len({s["SubnetId"] for s in subnets}), 3)

    def test_ids_stable_across_restart_and_reset(self):
        before = (self.default_vpc()["VpcId"], sorted(s["SubnetId"] for s in self.ec2.describe_subnets()["Subnets"]),
                  self.ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"])
        self.server.restart()
        ec2 = self.server.client("ec2")
        after = (self.default_vpc(ec2)["VpcId"], sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]),
                 ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"])
        self.assertEqual(before, after)
        self.server.reset()
        self.assertEqual(self.default_vpc(ec2)["VpcId"], before[0])

    def test_subnet_filters(self):
        vpc_id = self.default_vpc()["VpcId"]
        subnets = {s["AvailabilityZone"]: s["SubnetId"] for s in self.ec2.describe_subnets()["Subnets"]}

        def ids(**kwargs):
            return sorted(s["SubnetId"] for s in self.ec2.describe_subnets(**kwargs)["Subnets"])

        self.assertEqual(ids(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]), sorted(subnets.values()))
        self.assertEqual(ids(Filters=[{"Name": "vpc-id", "Values": ["vpc-00000000000000000"]}]), [])
        self.assertEqual(ids(Filters=[{"Name": "availability-zone", "Values": ["us-east-1b"]}]), [subnets["us-east-1b"]])
        self.assertEqual(ids(Filters=[{"Name": "availability-zone", "Values": ["us-east-1a", "us-east-1c"]}]),
                         sorted([subnets["us-east-1a"], subnets["us-east-1c"]]))
        self.assertEqual(ids(Filters=[{"Name": "availability-zone", "Values": ["*-1c"]}]), [subnets["us-east-1c"]])
        self.assertEqual(ids(Filters=[{"Name": "default-for-az", "Values": ["true"]},
                                      {"Name": "subnet-id", "Values": [subnets["us-east-1a"]]}]),
                         [subnets["us-east-1a"]])
        self.assertEqual(ids(Filters=[{"Name": "default-for-az", "Values": ["false"]}]), [])
        self.assertEqual(ids(Filters=[{"Name": "state", "Values": ["available"]}]), sorted(subnets.values()))
        self.assertEqual(ids(Filters=[{"Name": "tag:Name", "Values": ["*"]}]), [])
        self.assertEqual(ids(SubnetIds=[subnets["us-east-1b"]], Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]),
                         [subnets["us-east-1b"]])
        msg = self.assertAwsError("InvalidParameterValue", self.ec2.describe_subnets,
                                  Filters=[{"Name": "colour", "Values": ["red"]}])
        self.assertIn("colour", msg)

    def test_vpc_and_group_filters(self):
        vpc_id = self.default_vpc()["VpcId"]
        for name in ("is-default", "isDefault"):
            self.assertEqual(len(self.ec2.describe_vpcs(Filters=[{"Name": name, "Values": ["true"]}])["Vpcs"]), 1)
            self.assertEqual(self.ec2.describe_vpcs(Filters=[{"Name": name, "Values": ["false"]}])["Vpcs"], [])
        self.assertEqual(len(self.ec2.describe_vpcs(Filters=[{"Name": "state", "Values": ["available"]}])["Vpcs"]), 1)
        self.assertEqual(self.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["VpcId"], vpc_id)
        groups = self.ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                            {"Name": "group-name", "Values": ["default"]}])
        self.assertEqual(len(groups["SecurityGroups"]), 1)
        gid = groups["SecurityGroups"][0]["GroupId"]
        self.assertEqual(self.ec2.describe_security_groups(
            Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroups"][0]["GroupName"], "default")
        self.assertEqual(self.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["web"]}])["SecurityGroups"], [])

    def test_default_security_group(self):
        vpc_id = self.default_vpc()["VpcId"]
        groups = self.ec2.describe_security_groups()["SecurityGroups"]
        self.assertEqual(len(groups), 1)
        g = groups[0]
        self.assertRegex(g["GroupId"], r"^sg-[0-9a-f]{17}$")
        self.assertEqual(g["GroupName"], "default")
        self.assertEqual(g["Description"], "default VPC security group")
        self.assertEqual(g["VpcId"], vpc_id)
        self.assertEqual(g["OwnerId"], "000000000000")
        self.assertEqual(g["IpPermissions"], [{
            "IpProtocol": "-1", "UserIdGroupPairs": [{"UserId": "000000000000", "GroupId": g["GroupId"]}],
            "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": []}])
        self.assertEqual(g["IpPermissionsEgress"], [{
            "IpProtocol": "-1", "UserIdGroupPairs": [], "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
            "PrefixListIds": []}])
        self.assertEqual(self.ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"],
                         g["GroupId"])
        self.assertEqual(self.ec2.describe_security_groups(GroupIds=[g["GroupId"]])["SecurityGroups"][0]["GroupName"],
                         "default")

    def test_unknown_ids(self):
        msg = self.assertAwsError("InvalidSubnetID.NotFound", self.ec2.describe_subnets, SubnetIds=["subnet-x"])
        self.assertEqual(msg, "The subnet ID 'subnet-x' does not exist")
        real = self.ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        msg = self.assertAwsError("InvalidSubnetID.NotFound", self.ec2.describe_subnets,
                                  SubnetIds=[real, "subnet-0123456789abcdef0"])
        self.assertIn("subnet-0123456789abcdef0", msg)
        self.assertNotIn(real, msg)
        self.assertAwsError("InvalidSubnetID.Malformed", self.ec2.describe_subnets, SubnetIds=["nonsense"])
        msg = self.assertAwsError("InvalidVpcID.NotFound", self.ec2.describe_vpcs, VpcIds=["vpc-0000000000000000a"])
        self.assertEqual(msg, "The vpc ID 'vpc-0000000000000000a' does not exist")
        self.assertAwsError("InvalidGroup.NotFound", self.ec2.describe_security_groups, GroupIds=["sg-00000000000000000"])
        msg = self.assertAwsError("InvalidGroup.NotFound", self.ec2.describe_security_groups, GroupNames=["web"])
        self.assertIn("'web'", msg)

    def test_paging_inputs(self):
        out = self.ec2.describe_subnets(MaxResults=5)
        self.assertEqual(len(out["Subnets"]), 3)
        self.assertNotIn("NextToken", out)
        pages = list(self.ec2.get_paginator("describe_subnets").paginate(PaginationConfig={"PageSize": 5}))
        self.assertEqual(sum(len(p["Subnets"]) for p in pages), 3)
        self.assertAwsError("InvalidPaginationToken", self.ec2.describe_subnets, MaxResults=5, NextToken="garbage")
        # Below the model's minimum (botocore would refuse to send it).
        status, _, body = raw_signed(self.server, "ec2", None,
                                     b"Action=DescribeSubnets&Version=2016-11-15&MaxResults=2",
                                     headers={"Content-Type": FORM})
        self.assertEqual(status, 400, body)
        self.assertEqual(ET.fromstring(body).find("Errors/Error/Code").text, "InvalidParameterValue")
        status, _, body = raw_signed(self.server, "ec2", None,
                                     b"Action=DescribeSubnets&Version=2016-11-15&MaxResults=lots",
                                     headers={"Content-Type": FORM})
        self.assertEqual(status, 400, body)
        self.assertIn(b"MaxResults", body)

    def test_dry_run(self):
        self.assertAwsError("DryRunOperation", self.ec2.describe_vpcs, DryRun=True, status=412)
        self.assertAwsError("DryRunOperation", self.ec2.describe_subnets, DryRun=True, status=412)

    def test_availability_zones(self):
        zones = self.ec2.describe_availability_zones()["AvailabilityZones"]
        self.assertEqual([(z["ZoneName"], z["ZoneId"], z["State"], z["RegionName"]) for z in zones],
                         [("us-east-1a", "use1-az1", "available", "us-east-1"),
                          ("us-east-1b", "use1-az2", "available", "us-east-1"),
                          ("us-east-1c", "use1-az3", "available", "us-east-1")])
        self.assertEqual(zones[0]["OptInStatus"], "opt-in-not-required")
        self.assertEqual(zones[0]["ZoneType"], "availability-zone")
        one = self.ec2.describe_availability_zones(ZoneNames=["us-east-1b"])["AvailabilityZones"]
        self.assertEqual([z["ZoneId"] for z in one], ["use1-az2"])
        by_id = self.ec2.describe_availability_zones(ZoneIds=["use1-az3"])["AvailabilityZones"]
        self.assertEqual([z["ZoneName"] for z in by_id], ["us-east-1c"])
        filtered = self.ec2.describe_availability_zones(Filters=[{"Name": "zone-name", "Values": ["us-east-1a"]}])
        self.assertEqual(len(filtered["AvailabilityZones"]), 1)
        self.assertAwsError("InvalidParameterValue", self.ec2.describe_availability_zones, ZoneNames=["us-east-1z"])

    def test_region_isolation(self):
        east = self.default_vpc()
        west_client = self.server.client("ec2", region="us-west-2")
        west = self.default_vpc(west_client)
        self.assertNotEqual(east["VpcId"], west["VpcId"])
        west_subnets = west_client.describe_subnets()["Subnets"]
        self.assertEqual(sorted(s["AvailabilityZone"] for s in west_subnets), ["us-west-2a", "us-west-2b", "us-west-2c"])
        self.assertEqual(sorted(s["AvailabilityZoneId"] for s in west_subnets), ["usw2-az1", "usw2-az2", "usw2-az3"])
        east_ids = {s["SubnetId"] for s in self.ec2.describe_subnets()["Subnets"]}
        self.assertFalse(east_ids & {s["SubnetId"] for s in west_subnets})
        self.assertAwsError("InvalidSubnetID.NotFound", west_client.describe_subnets, SubnetIds=[sorted(east_ids)[0]])
        self.assertAwsError("InvalidVpcID.NotFound", west_client.describe_vpcs, VpcIds=[east["VpcId"]])
        self.assertEqual([z["ZoneName"] for z in west_client.describe_availability_zones()["AvailabilityZones"]],
                         ["us-west-2a", "us-west-2b", "us-west-2c"])

    def test_xml_wire_shape(self):
        status, headers, body = raw_signed(self.server, "ec2", None,
                                           b"Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=availability-zone"
                                           b"&Filter.1.Value.1=us-east-1a",
                                           headers={"Content-Type": FORM})
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("text/xml"))
        root = ET.fromstring(body)
        self.assertEqual(root.tag, EC2_NS + "DescribeSubnetsResponse")
        self.assertEqual(root.find(EC2_NS + "requestId").text, headers["x-amzn-requestid"])
        items = root.findall(f"{EC2_NS}subnetSet/{EC2_NS}item")
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0].find(EC2_NS + "availabilityZone").text, "us-east-1a")
        self.assertEqual(items[0].find(EC2_NS + "defaultForAz").text, "true")
        # The same action from the query string (GET).
        status, _, body = raw_signed(self.server, "ec2", None, b"", method="GET",
                                     path="/?Action=DescribeVpcs&Version=2016-11-15")
        self.assertEqual(status, 200, body)
        self.assertEqual(ET.fromstring(body).tag, EC2_NS + "DescribeVpcsResponse")

    def test_unsupported_actions(self):
        for call, op in ((lambda: self.ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1), "RunInstances"),
                         (lambda: self.ec2.create_subnet(VpcId="vpc-1", CidrBlock="172.31.48.0/20"), "CreateSubnet")):
            with self.subTest(op=op):
                with self.assertRaises(ClientError) as cm:
                    call()
                err = cm.exception.response
                self.assertEqual(err["Error"]["Code"], "UnsupportedOperation")
                self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 501)
                self.assertIn(op, err["Error"]["Message"])

    def test_cli_describe_subnets(self):
        vpc_id = self.default_vpc()["VpcId"]
        out = json.loads(self.server.aws("ec2", "describe-subnets").stdout)
        self.assertEqual(len(out["Subnets"]), 3)
        self.assertEqual({s["VpcId"] for s in out["Subnets"]}, {vpc_id})
        out = json.loads(self.server.aws("ec2", "describe-subnets", "--filters",
                                         "Name=availability-zone,Values=us-east-1c").stdout)
        self.assertEqual([s["CidrBlock"] for s in out["Subnets"]], ["172.31.32.0/20"])
        p = self.server.aws("ec2", "describe-subnets", "--subnet-ids", "subnet-x", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidSubnetID.NotFound", p.stderr)


if __name__ == "__main__":
    unittest.main()
