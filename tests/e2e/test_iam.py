"""IAM users, access keys and inline policies, enforced: a new user may do nothing; an inline policy
allows exactly its actions; an explicit Deny beats an Allow; inactive and deleted keys stop working;
every service answers a denial in its own words. Roles, groups, managed policies and resource-level
permissions: test_iam_roles.py; STS sessions: test_sts.py."""
import json
import unittest

from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ServerTestCase


class IamTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.iam = self.server.client("iam")

    def new_user(self, name, *statements):
        self.iam.create_user(UserName=name)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        if statements:
            self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": list(statements)}))
        return key

    def test_users_and_keys_lifecycle(self):
        user = self.iam.create_user(UserName="alice", Path="/team/")["User"]
        self.assertEqual(user["Arn"], f"arn:aws:iam::{ACCOUNT}:user/team/alice")
        self.assertTrue(user["UserId"].startswith("AIDA"))
        self.assertAwsError("EntityAlreadyExists", self.iam.create_user, status=409, UserName="alice")
        self.assertEqual(self.iam.get_user(UserName="alice")["User"]["UserId"], user["UserId"])
        self.assertAwsError("NoSuchEntity", self.iam.get_user, status=404, UserName="bob")
        for n in ("bob", "carol", "dave"):
            self.iam.create_user(UserName=n)
        page = self.iam.list_users(MaxItems=2)
        self.assertTrue(page["IsTruncated"])
        rest = self.iam.list_users(Marker=page["Marker"])
        names = [u["UserName"] for u in page["Users"] + rest["Users"]]
        self.assertEqual(sorted(names), ["alice", "bob", "carol", "dave"])
        self.assertEqual([u["UserName"] for u in self.iam.list_users(PathPrefix="/team/")["Users"]], ["alice"])

        k1 = self.iam.create_access_key(UserName="alice")["AccessKey"]
        self.iam.create_access_key(UserName="alice")
        self.assertAwsError("LimitExceeded", self.iam.create_access_key, status=409, UserName="alice")
        listed = self.iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
        self.assertEqual(len(listed), 2)
        self.assertNotIn("SecretAccessKey", listed[0])
        self.assertAwsError("DeleteConflict", self.iam.delete_user, status=409, UserName="alice")
        for k in listed:
            self.iam.delete_access_key(UserName="alice", AccessKeyId=k["AccessKeyId"])
        self.assertAwsError("NoSuchEntity", self.iam.delete_access_key, status=404, UserName="alice",
                            AccessKeyId=k1["AccessKeyId"])
        self.iam.delete_user(UserName="alice")
        self.assertAwsError("NoSuchEntity", self.iam.get_user, status=404, UserName="alice")

    def test_a_new_user_may_do_nothing_until_a_policy_allows_it(self):
        key = self.new_user("alice")
        who = self.client_as("sts", key).get_caller_identity()
        self.assertEqual(who["Arn"], f"arn:aws:iam::{ACCOUNT}:user/alice")
        self.assertTrue(who["UserId"].startswith("AIDA"))
        ecs = self.client_as("ecs", key)
        msg = self.assertDenied(ecs.list_clusters, "AccessDeniedException", "ecs:ListClusters")
        self.assertIn("because no identity-based policy allows the ecs:ListClusters action", msg)
        self.assertDenied(self.client_as("ec2", key).describe_vpcs, "UnauthorizedOperation", "ec2:DescribeVpcs")
        self.assertDenied(self.client_as("iam", key).list_users, "AccessDenied", "iam:ListUsers")
        self.assertDenied(self.client_as("logs", key).describe_log_groups, "AccessDeniedException",
                          "logs:DescribeLogGroups")

        self.iam.put_user_policy(UserName="alice", PolicyName="ecs-read", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["ecs:List*", "ecs:Describe*"], "Resource": "*"}]}))
        self.assertEqual(ecs.list_clusters()["clusterArns"], [])
        self.assertDenied(lambda: ecs.create_cluster(clusterName="x"), "AccessDeniedException", "ecs:CreateCluster")
        # The root is not bound by any of it.
        self.server.client("ecs").create_cluster(clusterName="x")
        self.assertEqual(len(ecs.list_clusters()["clusterArns"]), 1)

    def test_explicit_deny_wins_and_conditions_apply(self):
        key = self.new_user(
            "bob",
            {"Effect": "Allow", "Action": "ecs:*", "Resource": "*"},
            {"Sid": "NoDeletes", "Effect": "Deny", "Action": "ecs:Delete*", "Resource": "*"},
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}})
        ecs = self.client_as("ecs", key)
        ecs.create_cluster(clusterName="b")
        msg = self.assertDenied(lambda: ecs.delete_cluster(cluster="b"), "AccessDeniedException", "ecs:DeleteCluster")
        self.assertIn("with an explicit deny", msg)
        self.assertDenied(self.client_as("logs", key).describe_log_groups, "AccessDeniedException",
                          "logs:DescribeLogGroups")
        eu = self.client_as("logs", key, region="eu-west-1")
        self.assertEqual(eu.describe_log_groups()["logGroups"], [])

    def test_inactive_and_deleted_keys_stop_working(self):
        key = self.new_user("carol", {"Effect": "Allow", "Action": "ecs:List*", "Resource": "*"})
        ecs = self.client_as("ecs", key)
        ecs.list_clusters()
        self.iam.update_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"], Status="Inactive")
        self.assertAwsError("UnrecognizedClientException", ecs.list_clusters)
        self.iam.update_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"], Status="Active")
        ecs.list_clusters()
        self.iam.delete_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"])
        self.assertAwsError("UnrecognizedClientException", ecs.list_clusters)
        self.assertAwsError("InvalidClientTokenId", self.client_as("iam", key).list_users, status=403)

    def test_inline_policies(self):
        self.iam.create_user(UserName="dave")
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:RunTask", "Resource": [
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/my-batch-job:*"]}]}
        self.iam.put_user_policy(UserName="dave", PolicyName="run", PolicyDocument=json.dumps(doc))
        got = self.iam.get_user_policy(UserName="dave", PolicyName="run")
        self.assertEqual(got["PolicyDocument"], doc)  # botocore URL-decodes and parses it, as from AWS
        self.assertEqual(self.iam.list_user_policies(UserName="dave")["PolicyNames"], ["run"])
        for bad, reason in ((json.dumps({"Statement": [{"Effect": "Alow", "Action": "x:y", "Resource": "*"}]}),
                             "Alow"),
                            ('{"Version": "2012-10-17", "Statement": [', ""),
                            (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                                                 "Resource": "*"}]}), "actions")):
            msg = self.assertAwsError("MalformedPolicyDocument", self.iam.put_user_policy, UserName="dave",
                                      PolicyName="bad", PolicyDocument=bad)
            self.assertIn(reason, msg)
        self.assertAwsError("NoSuchEntity", self.iam.get_user_policy, status=404, UserName="dave", PolicyName="nope")
        self.iam.delete_user_policy(UserName="dave", PolicyName="run")
        self.assertEqual(self.iam.list_user_policies(UserName="dave")["PolicyNames"], [])
        self.assertAwsError("NoSuchEntity", self.iam.put_user_policy, status=404, UserName="nobody", PolicyName="p",
                            PolicyDocument=json.dumps(doc))

    def test_run_task_needs_pass_role_for_the_task_roles(self):
        # The root prepares what the seed prepares; the user may call RunTask, but handing the task its
        # execution role also needs iam:PassRole on that role, as in ECS.
        role = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
        root_ecs = self.server.client("ecs")
        root_ecs.create_cluster(clusterName="fargatecluster")
        root_ecs.register_task_definition(
            family="my-batch-job", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
            memory="512", executionRoleArn=role,
            containerDefinitions=[{"name": "app", "image": f"127.0.0.1:{self.server.port}/nothing:latest",
                                   "essential": True}])
        subnet = self.server.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
        run = dict(cluster="fargatecluster", launchType="FARGATE", taskDefinition="my-batch-job",
                   networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}})
        key = self.new_user("lambda-like", {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"})
        ecs = self.client_as("ecs", key)
        msg = self.assertDenied(lambda: ecs.run_task(**run), "AccessDeniedException", "iam:PassRole")
        self.assertIn(f"on resource: {role}", msg)
        # An override hands over another role: that one is checked instead.
        other = f"arn:aws:iam::{ACCOUNT}:role/other"
        self.iam.put_user_policy(UserName="lambda-like", PolicyName="pass", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": role}]}))
        msg = self.assertDenied(lambda: ecs.run_task(overrides={"executionRoleArn": other}, **run),
                                "AccessDeniedException", "iam:PassRole")
        self.assertIn(f"on resource: {other}", msg)
        try:
            out = ecs.run_task(**run)
            self.assertEqual(len(out["tasks"]), 1)
            root_ecs.stop_task(cluster="fargatecluster", task=out["tasks"][0]["taskArn"])
        except ClientError as e:  # a host that cannot run tasks says so, after the permission checks
            self.assertEqual(e.response["Error"]["Code"], "UnsupportedOperation", e.response)

    def test_cli_with_a_user_profile(self):
        key = self.new_user("erin", {"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"})
        env = self.server.cli_env()
        env.update(AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
        import shutil
        import subprocess
        cmd = [shutil.which("aws") or "aws", "--endpoint-url", self.server.endpoint, "--output", "json"]
        ok = subprocess.run(cmd + ["ecs", "list-clusters"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        no = subprocess.run(cmd + ["ecs", "list-task-definitions"], env=env, capture_output=True, text=True,
                            timeout=60)
        self.assertNotEqual(no.returncode, 0)
        self.assertIn("AccessDeniedException", no.stderr)



class IamDecisionCacheTest(ServerTestCase):
    """Decisions are remembered per caller until IAM changes, except for policies that look at the time: on the
    manual clock, a policy that allows until a date stops allowing once the clock passes it."""
    server_args = ("--clock", "manual")

    def test_time_conditions_and_changes_are_never_served_from_memory(self):
        import urllib.request
        iam = self.server.client("iam")
        iam.create_user(UserName="timed")
        key = iam.create_access_key(UserName="timed")["AccessKey"]
        with urllib.request.urlopen(self.server.endpoint + "/_gantry/clock", timeout=10) as r:
            now = json.load(r)["now"]
        until = now[:4] + "-12-31T23:59:59Z" if now[5:7] != "12" else str(int(now[:4]) + 1) + "-06-30T23:59:59Z"
        iam.put_user_policy(UserName="timed", PolicyName="until", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*",
                                                    "Condition": {"DateLessThan": {"aws:CurrentTime": until}}}]}))
        ecs = self.client_as("ecs", key)
        for _ in range(3):
            ecs.list_clusters()  # allowed (and asked again: the same answer)
        req = urllib.request.Request(self.server.endpoint + "/_gantry/clock", method="POST",
                                     data=json.dumps({"set": str(int(until[:4]) + 1) + "-01-15T00:00:00Z"}).encode())
        urllib.request.urlopen(req, timeout=10).close()
        self.assertDenied(ecs.list_clusters, "AccessDeniedException", "ecs:ListClusters")
        # A policy without time: allowed, remembered, and forgotten when the policy goes.
        iam.put_user_policy(UserName="timed", PolicyName="until", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"}]}))
        for _ in range(3):
            ecs.list_clusters()
        iam.delete_user_policy(UserName="timed", PolicyName="until")
        self.assertDenied(ecs.list_clusters, "AccessDeniedException", "ecs:ListClusters")


if __name__ == "__main__":
    unittest.main()
