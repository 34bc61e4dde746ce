"""STS: AssumeRole (trust policy weighed with the caller's identity policies, session policies,
durations, role chaining), GetSessionToken, and temporary credentials enforced: the session token is
required, the role's policies apply (the seed's run_task_lambda_role allows exactly RunTask on its task
definition and PassRole on ecsTaskExecutionRole), and expired credentials are refused with each
protocol's error."""
import json
import sqlite3
import unittest

from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ServerTestCase

EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
SEED_POLICY = {  # the seed's inline policy for run_task_lambda_role
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Stmt1512361420000", "Effect": "Allow", "Action": ["ecs:RunTask"],
         "Resource": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/my-batch-job:*"]},
        {"Sid": "Stmt1512361593000", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [EXECUTION_ROLE]},
    ],
}


def trust(*principals):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": p, "Action": "sts:AssumeRole"} for p in principals]})


def allow(action, resource="*"):
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})


class StsTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.iam = self.server.client("iam")

    def new_user(self, name, policy=None):
        self.iam.create_user(UserName=name)
        if policy:
            self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        return self.iam.create_access_key(UserName=name)["AccessKey"]

    def seed_role(self):
        role = self.iam.create_role(RoleName="run_task_lambda_role", AssumeRolePolicyDocument=trust(
            {"Service": "lambda.amazonaws.com"}, {"AWS": ACCOUNT}))["Role"]
        self.iam.put_role_policy(RoleName="run_task_lambda_role", PolicyName="run-task",
                                 PolicyDocument=json.dumps(SEED_POLICY))
        return role

    def test_the_seed_role_allows_exactly_run_task_and_pass_role(self):
        role = self.seed_role()
        ecs_root = self.server.client("ecs")
        ecs_root.create_cluster(clusterName="fargatecluster")
        for family in ("my-batch-job", "other-job"):
            ecs_root.register_task_definition(
                family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
                executionRoleArn=EXECUTION_ROLE,
                containerDefinitions=[{"name": "app", "image": f"127.0.0.1:{self.server.port}/nothing:latest",
                                       "essential": True}])
        subnet = self.server.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]

        # The root may not assume roles; a user needs sts:AssumeRole, since the trust policy names only the
        # account (which delegates to the account's identity policies).
        self.assertAwsError("AccessDenied", self.server.client("sts").assume_role, status=403,
                            RoleArn=role["Arn"], RoleSessionName="root")
        key = self.new_user("deployer")
        sts = self.client_as("sts", key)
        self.assertDenied(lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0"), "AccessDenied",
                          "sts:AssumeRole")
        self.iam.put_user_policy(UserName="deployer", PolicyName="assume",
                                 PolicyDocument=allow("sts:AssumeRole", role["Arn"]))
        out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="lambda-run")
        creds = out["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"), creds)
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/run_task_lambda_role/lambda-run")
        self.assertEqual(out["AssumedRoleUser"]["AssumedRoleId"], role["RoleId"] + ":lambda-run")
        who = self.client_as("sts", creds).get_caller_identity()
        self.assertEqual((who["Arn"], who["UserId"]),
                         (out["AssumedRoleUser"]["Arn"], out["AssumedRoleUser"]["AssumedRoleId"]))

        ecs = self.client_as("ecs", creds)
        run = dict(cluster="fargatecluster", launchType="FARGATE", count=1,
                   networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}})
        msg = self.assertDenied(lambda: ecs.run_task(taskDefinition="other-job", **run), "AccessDeniedException",
                                "ecs:RunTask")
        self.assertIn(f"on resource: arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/other-job:1", msg)
        self.assertIn("assumed-role/run_task_lambda_role/lambda-run", msg)
        self.assertDenied(ecs.list_clusters, "AccessDeniedException", "ecs:ListClusters")
        self.assertDenied(lambda: ecs.run_task(taskDefinition="my-batch-job",
                                               overrides={"executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/x"}, **run),
                          "AccessDeniedException", "iam:PassRole")
        try:
            started = ecs.run_task(taskDefinition="my-batch-job", **run)
            self.assertEqual(len(started["tasks"]), 1)
            ecs_root.stop_task(cluster="fargatecluster", task=started["tasks"][0]["taskArn"])
        except ClientError as e:  # a host that cannot run tasks says so, after the permission checks
            self.assertEqual(e.response["Error"]["Code"], "UnsupportedOperation", e.response)

        # Without the statements, the same call is denied.
        self.iam.delete_role_policy(RoleName="run_task_lambda_role", PolicyName="run-task")
        self.assertDenied(lambda: ecs.run_task(taskDefinition="my-batch-job", **run), "AccessDeniedException",
                          "ecs:RunTask")

    def test_the_session_token_is_required_and_checked(self):
        role = self.seed_role()
        key = self.new_user("deployer", allow("sts:AssumeRole", role["Arn"]))
        creds = self.client_as("sts", key).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
        no_token = dict(creds)
        del no_token["SessionToken"]
        self.assertAwsError("UnrecognizedClientException", self.client_as("ecs", no_token).list_clusters)
        wrong = dict(creds, SessionToken=creds["SessionToken"][:-4] + "AAAA")
        self.assertAwsError("InvalidClientTokenId", self.client_as("sts", wrong).get_caller_identity, status=403)
        # A long-term key does not take a token either.
        self.assertAwsError("UnrecognizedClientException",
                            self.client_as("ecs", dict(key, SessionToken=creds["SessionToken"])).list_clusters)

    def test_a_trust_policy_naming_the_user_needs_no_identity_policy(self):
        self.iam.create_user(UserName="alice")
        arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
        role = self.iam.create_role(RoleName="for-alice", AssumeRolePolicyDocument=trust({"AWS": arn}))["Role"]
        self.iam.put_role_policy(RoleName="for-alice", PolicyName="p", PolicyDocument=allow("ecs:ListClusters"))
        alice = self.iam.create_access_key(UserName="alice")["AccessKey"]
        bob = self.new_user("bob")
        creds = self.client_as("sts", alice).assume_role(RoleArn=role["Arn"], RoleSessionName="aa")["Credentials"]
        self.assertEqual(self.client_as("ecs", creds).list_clusters()["clusterArns"], [])
        self.assertDenied(lambda: self.client_as("sts", bob).assume_role(RoleArn=role["Arn"], RoleSessionName="bb"),
                          "AccessDenied", "sts:AssumeRole")
        # A role that does not exist is the same AccessDenied (nothing leaks about which roles exist).
        self.assertDenied(lambda: self.client_as("sts", alice).assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/nope", RoleSessionName="aa"), "AccessDenied", "sts:AssumeRole")

    def test_an_identity_allow_alone_never_assumes_a_role(self):
        # The trust policy decides: an administrator may not assume a role that trusts only ECS tasks.
        role = self.iam.create_role(RoleName="tasks-only", AssumeRolePolicyDocument=trust(
            {"Service": "ecs-tasks.amazonaws.com"}))["Role"]
        key = self.new_user("admin", allow("*"))
        self.assertDenied(lambda: self.client_as("sts", key).assume_role(RoleArn=role["Arn"], RoleSessionName="x1"),
                          "AccessDenied", "sts:AssumeRole")

    def test_sessions_of_a_deleted_role_stay_dead_when_the_name_is_reused(self):
        self.iam.create_user(UserName="gina")
        gina = f"arn:aws:iam::{ACCOUNT}:user/gina"
        role = self.iam.create_role(RoleName="reused", AssumeRolePolicyDocument=trust({"AWS": gina}))["Role"]
        self.iam.put_role_policy(RoleName="reused", PolicyName="p", PolicyDocument=allow("ecs:ListClusters"))
        key = self.iam.create_access_key(UserName="gina")["AccessKey"]
        creds = self.client_as("sts", key).assume_role(RoleArn=role["Arn"], RoleSessionName="old")["Credentials"]
        self.client_as("ecs", creds).list_clusters()
        self.iam.delete_role_policy(RoleName="reused", PolicyName="p")
        self.iam.delete_role(RoleName="reused")
        self.iam.create_role(RoleName="reused", AssumeRolePolicyDocument=trust({"AWS": gina}))
        self.iam.put_role_policy(RoleName="reused", PolicyName="p", PolicyDocument=allow("ecs:ListClusters"))
        self.assertDenied(self.client_as("ecs", creds).list_clusters, "AccessDeniedException", "ecs:ListClusters")

    def test_root_session_tokens_cannot_call_iam(self):
        creds = self.server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
        self.client_as("ecs", creds).list_clusters()  # the root's own permissions otherwise
        self.assertDenied(self.client_as("iam", creds).list_users, "AccessDenied", "iam:ListUsers")

    def test_session_policies_narrow_the_role(self):
        self.iam.create_user(UserName="carol")
        role = self.iam.create_role(RoleName="ecs-admin", AssumeRolePolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCOUNT}:user/carol"}))["Role"]
        self.iam.put_role_policy(RoleName="ecs-admin", PolicyName="p", PolicyDocument=allow("ecs:*"))
        key = self.iam.create_access_key(UserName="carol")["AccessKey"]
        sts = self.client_as("sts", key)
        creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="narrow",
                                Policy=allow("ecs:ListClusters"))["Credentials"]
        ecs = self.client_as("ecs", creds)
        ecs.list_clusters()
        msg = self.assertDenied(lambda: ecs.create_cluster(clusterName="x"), "AccessDeniedException",
                                "ecs:CreateCluster")
        self.assertIn("session policy", msg)
        # A managed policy as session policy.
        creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="managed", PolicyArns=[
            {"arn": "arn:aws:iam::aws:policy/AdministratorAccess"}])["Credentials"]
        self.client_as("ecs", creds).create_cluster(clusterName="y")
        self.assertAwsError("MalformedPolicyDocument", sts.assume_role, RoleArn=role["Arn"], RoleSessionName="bad",
                            Policy='{"Statement": [')

    def test_durations_and_role_chaining(self):
        self.iam.create_user(UserName="dave")
        user_arn = f"arn:aws:iam::{ACCOUNT}:user/dave"
        role = self.iam.create_role(RoleName="first", MaxSessionDuration=7200, AssumeRolePolicyDocument=trust(
            {"AWS": user_arn}))["Role"]
        second = self.iam.create_role(RoleName="second", MaxSessionDuration=7200, AssumeRolePolicyDocument=trust(
            {"AWS": role["Arn"]}))["Role"]
        self.iam.put_role_policy(RoleName="first", PolicyName="chain",
                                 PolicyDocument=allow("sts:AssumeRole", second["Arn"]))
        key = self.iam.create_access_key(UserName="dave")["AccessKey"]
        sts = self.client_as("sts", key)
        self.assertAwsError("ValidationError", sts.assume_role, RoleArn=role["Arn"], RoleSessionName="dd",
                            DurationSeconds=7201)
        self.assertAwsError("ValidationError", sts.assume_role, RoleArn=role["Arn"], RoleSessionName="bad name!")
        out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="dd", DurationSeconds=7200)
        chained = self.client_as("sts", out["Credentials"])
        msg = self.assertAwsError("ValidationError", chained.assume_role, RoleArn=second["Arn"],
                                  RoleSessionName="cc", DurationSeconds=7200)
        self.assertIn("role chaining", msg)
        out2 = chained.assume_role(RoleArn=second["Arn"], RoleSessionName="cc")
        self.assertEqual(self.client_as("sts", out2["Credentials"]).get_caller_identity()["Arn"],
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/second/cc")

    def test_get_session_token(self):
        key = self.new_user("erin", allow("ecs:ListClusters"))
        sts = self.client_as("sts", key)
        out = sts.get_session_token(DurationSeconds=900)["Credentials"]
        self.assertTrue(out["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(self.client_as("sts", out).get_caller_identity()["Arn"], f"arn:aws:iam::{ACCOUNT}:user/erin")
        self.client_as("ecs", out).list_clusters()
        self.assertDenied(self.client_as("ecs", out).list_task_definitions, "AccessDeniedException",
                          "ecs:ListTaskDefinitions")
        self.assertDenied(self.client_as("iam", out).list_users, "AccessDenied", "iam:ListUsers")
        self.assertAwsError("AccessDenied", self.client_as("sts", out).get_session_token, status=403)
        self.assertAwsError("ValidationError", sts.get_session_token, DurationSeconds=129601)

    def test_expired_credentials_are_refused(self):
        role = self.seed_role()
        key = self.new_user("frank", allow("sts:AssumeRole", role["Arn"]))
        creds = self.client_as("sts", key).assume_role(RoleArn=role["Arn"], RoleSessionName="old",
                                                     DurationSeconds=900)["Credentials"]
        user_session = self.client_as("sts", key).get_session_token(DurationSeconds=900)["Credentials"]
        self.client_as("sts", creds).get_caller_identity()
        # Let 16 minutes pass for these credentials: move their expiry into the past in the store.
        self.server.stop()
        db = sqlite3.connect(f"{self.server.data_dir}/gantry.db")
        with db:
            n = db.execute("UPDATE sts_sessions SET expires_ms = expires_ms - 960000").rowcount
        db.close()
        self.assertEqual(n, 2)
        self.server.start()
        self.assertAwsError("ExpiredTokenException", self.client_as("ecs", creds).list_clusters)
        self.assertAwsError("ExpiredToken", self.client_as("iam", creds).list_users, status=403)
        self.assertAwsError("ExpiredToken", self.client_as("sts", user_session).get_caller_identity, status=403)
        self.assertAwsError("RequestExpired", self.client_as("ec2", creds).describe_vpcs)


if __name__ == "__main__":
    unittest.main()
