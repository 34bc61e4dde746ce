"""IAM roles, groups and managed policies through boto3, and what they grant when enforced: roles
with trust policies and tags; customer managed policies with versions; AWS managed policies built in;
attachments to users, roles and groups; group membership granting its policies; resource-level
permissions (the resource ARN each operation names)."""
import json
import unittest

from botocore.config import Config

from harness import ACCOUNT, REGION, ServerTestCase

TRUST_LAMBDA = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class RolesGroupsPoliciesTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.iam = self.server.client("iam")

    def new_user(self, name):
        self.iam.create_user(UserName=name)
        return self.iam.create_access_key(UserName=name)["AccessKey"]

    def test_role_lifecycle(self):
        role = self.iam.create_role(RoleName="run_task_lambda_role", Path="/service/",
                                    AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA), Description="runs tasks",
                                    Tags=[{"Key": "team", "Value": "batch"}])["Role"]
        self.assertEqual(role["Arn"], f"arn:aws:iam::{ACCOUNT}:role/service/run_task_lambda_role")
        self.assertTrue(role["RoleId"].startswith("AROA"))
        self.assertEqual(role["MaxSessionDuration"], 3600)
        got = self.iam.get_role(RoleName="run_task_lambda_role")["Role"]
        self.assertEqual(got["AssumeRolePolicyDocument"], TRUST_LAMBDA)  # URL-encoded on the wire, as AWS
        self.assertEqual(got["Description"], "runs tasks")
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "batch"}])
        self.assertAwsError("EntityAlreadyExists", self.iam.create_role, status=409, RoleName="run_task_lambda_role",
                            AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
        # A trust policy must name principals; an identity policy is not one.
        msg = self.assertAwsError("MalformedPolicyDocument", self.iam.create_role, RoleName="r2",
                                  AssumeRolePolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Resource": "*"}))
        self.assertTrue(msg)
        unchecked = self.server.client("iam", config=Config(parameter_validation=False))
        self.assertAwsError("ValidationError", unchecked.create_role, RoleName="r2", MaxSessionDuration=60,
                            AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
        self.iam.update_role(RoleName="run_task_lambda_role", MaxSessionDuration=7200, Description="d2")
        self.iam.update_assume_role_policy(RoleName="run_task_lambda_role", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                                                     "Action": "sts:AssumeRole"}]}))
        got = self.iam.get_role(RoleName="run_task_lambda_role")["Role"]
        self.assertEqual((got["MaxSessionDuration"], got["Description"]), (7200, "d2"))
        self.assertEqual(got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"], {"AWS": ACCOUNT})
        self.iam.tag_role(RoleName="run_task_lambda_role", Tags=[{"Key": "env", "Value": "dev"}])
        self.iam.untag_role(RoleName="run_task_lambda_role", TagKeys=["team"])
        self.assertEqual(self.iam.list_role_tags(RoleName="run_task_lambda_role")["Tags"],
                         [{"Key": "env", "Value": "dev"}])
        self.iam.create_role(RoleName="other", AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
        self.assertEqual([r["RoleName"] for r in self.iam.list_roles()["Roles"]], ["other", "run_task_lambda_role"])
        self.assertEqual([r["RoleName"] for r in self.iam.list_roles(PathPrefix="/service/")["Roles"]],
                         ["run_task_lambda_role"])
        # Policies must go before the role does.
        self.iam.put_role_policy(RoleName="other", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"}))
        self.assertEqual(self.iam.list_role_policies(RoleName="other")["PolicyNames"], ["p"])
        self.assertEqual(self.iam.get_role_policy(RoleName="other", PolicyName="p")["PolicyDocument"]["Statement"][0]
                         ["Action"], "ecs:RunTask")
        self.assertAwsError("DeleteConflict", self.iam.delete_role, status=409, RoleName="other")
        self.iam.delete_role_policy(RoleName="other", PolicyName="p")
        arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
        self.iam.attach_role_policy(RoleName="other", PolicyArn=arn)
        self.assertEqual(self.iam.list_attached_role_policies(RoleName="other")["AttachedPolicies"],
                         [{"PolicyName": "AmazonECSTaskExecutionRolePolicy", "PolicyArn": arn}])
        self.assertAwsError("DeleteConflict", self.iam.delete_role, status=409, RoleName="other")
        self.iam.detach_role_policy(RoleName="other", PolicyArn=arn)
        self.iam.delete_role(RoleName="other")
        self.assertAwsError("NoSuchEntity", self.iam.get_role, status=404, RoleName="other")

    def test_managed_policies_and_versions(self):
        v1 = doc({"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"})
        p = self.iam.create_policy(PolicyName="ecs-list", Path="/team/", PolicyDocument=v1, Description="list",
                                   Tags=[{"Key": "k", "Value": "v"}])["Policy"]
        arn = f"arn:aws:iam::{ACCOUNT}:policy/team/ecs-list"
        self.assertEqual((p["Arn"], p["DefaultVersionId"], p["AttachmentCount"]), (arn, "v1", 0))
        self.assertTrue(p["PolicyId"].startswith("ANPA"))
        self.assertAwsError("EntityAlreadyExists", self.iam.create_policy, status=409, PolicyName="ecs-list",
                            PolicyDocument=v1)
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["Description"], "list")
        got = self.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
        self.assertTrue(got["IsDefaultVersion"])
        self.assertEqual(got["Document"], json.loads(v1))

        key = self.new_user("alice")
        ecs = self.client_as("ecs", key)
        self.assertDenied(ecs.list_clusters, "AccessDeniedException", "ecs:ListClusters")
        self.iam.attach_user_policy(UserName="alice", PolicyArn=arn)
        ecs.list_clusters()
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 1)
        self.assertEqual(self.iam.list_entities_for_policy(PolicyArn=arn)["PolicyUsers"][0]["UserName"], "alice")

        # A new default version changes what the attachment grants.
        v2 = doc({"Effect": "Allow", "Action": "ecs:ListTaskDefinitions", "Resource": "*"})
        made = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=v2, SetAsDefault=True)["PolicyVersion"]
        self.assertEqual((made["VersionId"], made["IsDefaultVersion"]), ("v2", True))
        self.assertDenied(ecs.list_clusters, "AccessDeniedException", "ecs:ListClusters")
        ecs.list_task_definitions()
        self.iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
        ecs.list_clusters()
        self.assertEqual([(v["VersionId"], v["IsDefaultVersion"])
                          for v in self.iam.list_policy_versions(PolicyArn=arn)["Versions"]],
                         [("v2", False), ("v1", True)])
        self.assertAwsError("DeleteConflict", self.iam.delete_policy_version, status=409, PolicyArn=arn,
                            VersionId="v1")
        for _ in range(3):
            self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=v2)
        self.assertAwsError("LimitExceeded", self.iam.create_policy_version, status=409, PolicyArn=arn,
                            PolicyDocument=v2)
        self.assertAwsError("MalformedPolicyDocument", self.iam.create_policy_version, PolicyArn=arn,
                            PolicyDocument='{"Statement": [}')

        self.assertAwsError("DeleteConflict", self.iam.delete_policy, status=409, PolicyArn=arn)
        self.iam.detach_user_policy(UserName="alice", PolicyArn=arn)
        self.assertDenied(ecs.list_clusters, "AccessDeniedException", "ecs:ListClusters")
        self.assertAwsError("NoSuchEntity", self.iam.detach_user_policy, status=404, UserName="alice", PolicyArn=arn)
        self.assertAwsError("DeleteConflict", self.iam.delete_policy, status=409, PolicyArn=arn)  # versions left
        for v in ("v2", "v3", "v4", "v5"):
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=v)
        self.iam.delete_policy(PolicyArn=arn)
        self.assertAwsError("NoSuchEntity", self.iam.get_policy, status=404, PolicyArn=arn)
        self.assertAwsError("NoSuchEntity", self.iam.attach_user_policy, status=404, UserName="alice",
                            PolicyArn=arn)

    def test_aws_managed_policies_are_built_in(self):
        listed = {p["Arn"]: p for p in self.iam.list_policies(Scope="AWS")["Policies"]}
        for arn in ("arn:aws:iam::aws:policy/AdministratorAccess",
                    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"):
            self.assertIn(arn, listed)
        self.assertEqual(self.iam.list_policies(Scope="Local")["Policies"], [])
        execution = self.iam.get_policy_version(
            PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
            VersionId="v1")["PolicyVersion"]["Document"]
        self.assertIn("ecr:BatchGetImage", execution["Statement"][0]["Action"])
        self.assertAwsError("NoSuchEntity", self.iam.get_policy, status=404,
                            PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
        self.assertAwsError("InvalidInput", self.iam.delete_policy,
                            PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

        key = self.new_user("admin")
        self.iam.attach_user_policy(UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        self.assertEqual([p["PolicyName"] for p in self.iam.list_policies(OnlyAttached=True)["Policies"]],
                         ["AdministratorAccess"])
        self.client_as("ecs", key).create_cluster(clusterName="by-admin")
        self.client_as("iam", key).create_user(UserName="made-by-admin")
        self.iam.detach_user_policy(UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        self.iam.attach_user_policy(UserName="admin",
                                    PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
        ecr = self.client_as("ecr", key)
        ecr.describe_repositories()
        self.assertDenied(lambda: ecr.create_repository(repositoryName="xy"), "AccessDeniedException",
                          "ecr:CreateRepository")

    def test_groups_grant_their_policies_to_members(self):
        key = self.new_user("bob")
        group = self.iam.create_group(GroupName="ops", Path="/teams/")["Group"]
        self.assertEqual(group["Arn"], f"arn:aws:iam::{ACCOUNT}:group/teams/ops")
        self.assertAwsError("EntityAlreadyExists", self.iam.create_group, status=409, GroupName="ops")
        self.iam.put_group_policy(GroupName="ops", PolicyName="logs", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"}))
        self.iam.attach_group_policy(GroupName="ops", PolicyArn="arn:aws:iam::aws:policy/AmazonECS_FullAccess")
        logs, ecs = self.client_as("logs", key), self.client_as("ecs", key)
        self.assertDenied(logs.describe_log_groups, "AccessDeniedException", "logs:DescribeLogGroups")
        self.iam.add_user_to_group(GroupName="ops", UserName="bob")
        logs.describe_log_groups()
        ecs.create_cluster(clusterName="ops-cluster")
        got = self.iam.get_group(GroupName="ops")
        self.assertEqual([u["UserName"] for u in got["Users"]], ["bob"])
        self.assertEqual([g["GroupName"] for g in self.iam.list_groups_for_user(UserName="bob")["Groups"]], ["ops"])
        self.assertAwsError("DeleteConflict", self.iam.delete_group, status=409, GroupName="ops")
        self.assertAwsError("DeleteConflict", self.iam.delete_user, status=409, UserName="bob")
        self.iam.remove_user_from_group(GroupName="ops", UserName="bob")
        self.assertDenied(logs.describe_log_groups, "AccessDeniedException", "logs:DescribeLogGroups")
        self.assertAwsError("NoSuchEntity", self.iam.remove_user_from_group, status=404, GroupName="ops",
                            UserName="bob")
        self.iam.delete_group_policy(GroupName="ops", PolicyName="logs")
        self.iam.detach_group_policy(GroupName="ops", PolicyArn="arn:aws:iam::aws:policy/AmazonECS_FullAccess")
        self.iam.delete_group(GroupName="ops")
        self.assertEqual(self.iam.list_groups()["Groups"], [])

    def test_resource_level_permissions(self):
        key = self.new_user("carol")
        self.iam.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["ecs:CreateCluster", "ecs:DescribeClusters", "ecs:DeleteCluster"],
             "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/team-*"},
            {"Effect": "Allow", "Action": "logs:*",
             "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/team/*"},
            {"Effect": "Allow", "Action": "ecr:*",
             "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/*"},
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"}))
        ecs = self.client_as("ecs", key)
        ecs.create_cluster(clusterName="team-a")
        msg = self.assertDenied(lambda: ecs.create_cluster(clusterName="other"), "AccessDeniedException",
                                "ecs:CreateCluster")
        self.assertIn(f"on resource: arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/other", msg)
        ecs.describe_clusters(clusters=["team-a"])
        self.assertDenied(lambda: ecs.describe_clusters(clusters=["team-a", "other"]), "AccessDeniedException",
                          "ecs:DescribeClusters")
        logs = self.client_as("logs", key)
        logs.create_log_group(logGroupName="/team/jobs")
        logs.create_log_stream(logGroupName="/team/jobs", logStreamName="s1")
        logs.put_log_events(logGroupName="/team/jobs", logStreamName="s1",
                            logEvents=[{"timestamp": 1, "message": "hi"}])
        self.assertDenied(lambda: logs.create_log_group(logGroupName="/other"), "AccessDeniedException",
                          "logs:CreateLogGroup")
        ecr = self.client_as("ecr", key)
        ecr.create_repository(repositoryName="team/app")
        self.assertDenied(lambda: ecr.create_repository(repositoryName="app"), "AccessDeniedException",
                          "ecr:CreateRepository")
        iam = self.client_as("iam", key)
        self.assertEqual(iam.get_user(UserName="carol")["User"]["UserName"], "carol")
        self.iam.create_user(UserName="dave")
        self.assertDenied(lambda: iam.get_user(UserName="dave"), "AccessDenied", "iam:GetUser")

    def test_attaching_is_authorized_on_the_entity_with_the_policy_as_a_condition(self):
        for name in ("app-web", "ops"):
            self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
        key = self.new_user("delegate")
        self.iam.put_user_policy(UserName="delegate", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "iam:AttachRolePolicy", "Resource": f"arn:aws:iam::{ACCOUNT}:role/app-*",
             "Condition": {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess"}}}))
        iam = self.client_as("iam", key)
        iam.attach_role_policy(RoleName="app-web", PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsFullAccess")
        msg = self.assertDenied(lambda: iam.attach_role_policy(
            RoleName="ops", PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsFullAccess"), "AccessDenied",
            "iam:AttachRolePolicy")
        self.assertIn(f"on resource: arn:aws:iam::{ACCOUNT}:role/ops", msg)
        self.assertDenied(lambda: iam.attach_role_policy(
            RoleName="app-web", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"), "AccessDenied",
            "iam:AttachRolePolicy")

    def test_resource_tag_conditions(self):
        root_ecs = self.server.client("ecs")
        root_ecs.create_cluster(clusterName="blue", tags=[{"key": "team", "value": "blue"}])
        root_ecs.create_cluster(clusterName="red", tags=[{"key": "team", "value": "red"}])
        self.server.client("ecr").create_repository(repositoryName="blue-app", tags=[{"Key": "team", "Value": "blue"}])
        key = self.new_user("blue-dev")
        self.iam.put_user_policy(UserName="blue-dev", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["ecs:DeleteCluster", "ecr:ListImages"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}}))
        ecs = self.client_as("ecs", key)
        self.assertDenied(lambda: ecs.delete_cluster(cluster="red"), "AccessDeniedException", "ecs:DeleteCluster")
        ecs.delete_cluster(cluster="blue")
        self.assertEqual(self.client_as("ecr", key).list_images(repositoryName="blue-app")["imageIds"], [])

    def test_cli_profiles_sign_as_their_users(self):
        import os
        import shutil
        import subprocess
        import tempfile
        ops = self.new_user("ops")
        self.iam.attach_user_policy(UserName="ops", PolicyArn="arn:aws:iam::aws:policy/AmazonECS_FullAccess")
        viewer = self.new_user("viewer")
        with tempfile.TemporaryDirectory() as tmp:
            creds = os.path.join(tmp, "credentials")
            with open(creds, "w") as f:
                for name, k in (("ops", ops), ("viewer", viewer)):
                    f.write(f"[{name}]\naws_access_key_id = {k['AccessKeyId']}\n"
                            f"aws_secret_access_key = {k['SecretAccessKey']}\n")
            env = {k: v for k, v in self.server.cli_env().items() if not k.startswith("AWS_")}
            env.update(AWS_SHARED_CREDENTIALS_FILE=creds, AWS_CONFIG_FILE=os.devnull, AWS_DEFAULT_REGION=REGION,
                       AWS_PAGER="")
            cmd = [shutil.which("aws") or "aws", "--endpoint-url", self.server.endpoint, "--output", "json"]
            ok = subprocess.run(cmd + ["--profile", "ops", "ecs", "create-cluster", "--cluster-name", "by-ops"],
                                env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(ok.returncode, 0, ok.stderr)
            no = subprocess.run(cmd + ["--profile", "viewer", "ecs", "list-clusters"], env=env, capture_output=True,
                                text=True, timeout=60)
            self.assertNotEqual(no.returncode, 0)
            self.assertIn("AccessDeniedException", no.stderr)
            self.assertIn("user/viewer is not authorized to perform: ecs:ListClusters", no.stderr)


if __name__ == "__main__":
    unittest.main()
