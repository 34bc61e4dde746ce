"""The endpoints a Fargate task finds at 169.254.170.2 inside its own network namespace: the task role's
credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, which SDKs use unchanged) and the task metadata
endpoint v4 (ECS_CONTAINER_METADATA_URI_V4); the environment the ECS agent sets; a task role ECS cannot
assume refused at RunTask; the execution role needed, and its permissions checked, to pull the image
and write the logs. Containers really run under runc (busybox's wget fetches the endpoints);
needs root and runc, otherwise skipped with GANTRY_E2E_SKIPPED."""
import json
import unittest

from harness import ACCOUNT, ServerTestCase
from test_ecs_tasks import CLUSTER, TaskTestMixin, force_cleanup, push_test_image, setUpModule  # noqa: F401

ECS_TASKS_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


class TaskEndpointsTest(TaskTestMixin, ServerTestCase):
    def setUp(self):
        super().setUp()
        self.clients()
        self.iam = self.server.client("iam")
        self.ecs.create_cluster(clusterName=CLUSTER)
        push_test_image(self.server, "busybox", "busybox")

    def tearDown(self):
        super().tearDown()
        self.server.reset()
        self.assertEqual(force_cleanup(self.server.data_dir), [], "the task left containers or mounts behind")

    def image_uri(self):
        return f"127.0.0.1:{self.server.port}/busybox:latest"

    def json_line(self, lines, marker):
        for line in lines:
            if line.startswith(marker):
                return json.loads(line[len(marker):])
        self.fail(f"no line starting with {marker!r} in {lines}")

    def test_task_role_credentials_reach_the_container_and_work(self):
        role = self.iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=ECS_TASKS_TRUST)["Role"]
        self.iam.put_role_policy(RoleName="app-role", PolicyName="list", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"}]}))
        td = self.register("with-role", command=(
            "echo CREDS=$(wget -qO- http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI); "
            "echo WRONG=$(wget -qO- http://169.254.170.2/v2/credentials/not-mine 2>&1 | head -c 80); "
            "env | grep -E '^(AWS_|ECS_)' | sort"), task_role=role["Arn"])
        task = self.run_to_stop(td)
        self.assertEqual(task["containers"][0].get("exitCode"), 0, task)
        lines = self.log_lines(task, expect=["CREDS=", "AWS_EXECUTION_ENV="])
        creds = self.json_line(lines, "CREDS=")
        self.assertEqual(creds["RoleArn"], role["Arn"])
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"), creds)
        self.assertIn("400", [l for l in lines if l.startswith("WRONG=")][0])  # another id: 400, nothing leaks
        env = dict(l.split("=", 1) for l in lines if "=" in l and l.split("=", 1)[0].startswith(("AWS_", "ECS_")))
        self.assertEqual(env["AWS_EXECUTION_ENV"], "AWS_ECS_FARGATE")
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        self.assertTrue(env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"].startswith("/v2/credentials/"))
        self.assertTrue(env["ECS_CONTAINER_METADATA_URI_V4"].startswith("http://169.254.170.2/v4/"))

        # The credentials are the role's, for this task, and they work against Gantry with its policies.
        aws = {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
               "SessionToken": creds["Token"]}
        who = self.client_as("sts", aws).get_caller_identity()
        self.assertEqual(who["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/{self.task_id(task)}")
        self.client_as("ecs", aws).list_clusters()
        self.assertDenied(lambda: self.client_as("ecs", aws).create_cluster(clusterName="x"),
                          "AccessDeniedException", "ecs:CreateCluster")

    def test_metadata_endpoint_v4(self):
        td = self.register("metadata", command=(
            "sleep 1; "  # the agent records RUNNING just after the container starts, as in ECS
            "echo TASK=$(wget -qO- $ECS_CONTAINER_METADATA_URI_V4/task); "
            "echo CONTAINER=$(wget -qO- $ECS_CONTAINER_METADATA_URI_V4); "
            "echo ROLE=${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-none}"))
        task = self.run_to_stop(td)
        self.assertEqual(task["containers"][0].get("exitCode"), 0, task)
        lines = self.log_lines(task, expect=["TASK=", "CONTAINER=", "ROLE="])
        meta = self.json_line(lines, "TASK=")
        self.assertEqual(meta["TaskARN"], task["taskArn"])
        self.assertEqual(meta["Cluster"], task["clusterArn"])
        self.assertEqual((meta["Family"], meta["Revision"]), ("metadata", "1"))
        self.assertEqual((meta["LaunchType"], meta["Limits"]), ("FARGATE", {"CPU": 0.25, "Memory": 512}))
        self.assertEqual(meta["AvailabilityZone"], task["availabilityZone"])
        self.assertEqual([c["Name"] for c in meta["Containers"]], ["app"])
        container = self.json_line(lines, "CONTAINER=")
        self.assertEqual(container["Name"], "app")
        self.assertEqual(container["DockerId"], f"{self.task_id(task)}-app")
        self.assertEqual(container["KnownStatus"], "RUNNING")
        self.assertEqual(container["Labels"]["com.amazonaws.ecs.task-arn"], task["taskArn"])
        self.assertEqual(container["Networks"][0]["IPv4Addresses"],
                         [task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]])
        self.assertEqual(container["LogDriver"], "awslogs")
        self.assertIn("ROLE=none", lines)  # no task role: no credentials URI

    def test_the_execution_role_pulls_the_image_and_writes_the_logs(self):
        # No execution role (and so no awslogs, which Fargate refuses without one): nothing to pull with.
        self.ecs.register_task_definition(
            family="no-exec", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
            containerDefinitions=[{"name": "app", "image": self.image_uri(), "command": ["true"]}])
        task = self.run_to_stop("no-exec")
        self.assertEqual(task["stopCode"], "TaskFailedToStart", task)
        self.assertIn("CannotPullContainerError", task["stoppedReason"])
        self.assertIn("no basic auth credentials", task["stoppedReason"])
        # An execution role without permissions: ECR refuses it, as in ECS.
        self.iam.create_role(RoleName="bare-exec", AssumeRolePolicyDocument=ECS_TASKS_TRUST)
        bare = f"arn:aws:iam::{ACCOUNT}:role/bare-exec"
        task = self.run_to_stop(self.register("bare-exec", command="true", execution_role=bare))
        self.assertEqual(task["stopCode"], "TaskFailedToStart", task)
        self.assertTrue(task["stoppedReason"].startswith(
            "ResourceInitializationError: unable to pull secrets or registry auth"), task["stoppedReason"])
        self.assertIn(f"assumed-role/bare-exec/{self.task_id(task)} is not authorized to perform: "
                      "ecr:GetAuthorizationToken", task["stoppedReason"])
        # Allowed to pull but not to write logs: the awslogs driver fails.
        self.iam.attach_role_policy(RoleName="bare-exec",
                                    PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
        task = self.run_to_stop("bare-exec")
        self.assertIn("ResourceInitializationError: failed to validate logger args", task["stoppedReason"])
        self.assertIn("logs:CreateLogStream", task["stoppedReason"])
        # With AWS's execution role policy it writes to existing groups; awslogs-create-group also needs
        # logs:CreateLogGroup, as in ECS.
        self.iam.attach_role_policy(RoleName="bare-exec",
                                    PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
        task = self.run_to_stop("bare-exec")
        self.assertIn("logs:CreateLogGroup", task["stoppedReason"])
        self.iam.attach_role_policy(RoleName="bare-exec",
                                    PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsFullAccess")
        task = self.run_to_stop(self.register("bare-exec", command="echo pulled", execution_role=bare))
        self.assertEqual(task["containers"][0].get("exitCode"), 0, task)

    def test_a_task_role_ecs_cannot_assume_is_refused_at_run_task(self):
        role = self.iam.create_role(RoleName="lambda-only", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]
        td = self.register("untrusted", command="true", task_role=role["Arn"])
        msg = self.assertAwsError("ClientException", self.ecs.run_task, cluster=CLUSTER, taskDefinition=td,
                                  launchType="FARGATE", networkConfiguration=self.network())
        self.assertIn("ECS was unable to assume the role", msg)
        missing = f"arn:aws:iam::{ACCOUNT}:role/missing"
        msg = self.assertAwsError("ClientException", self.ecs.run_task, cluster=CLUSTER, taskDefinition=td,
                                  launchType="FARGATE", networkConfiguration=self.network(),
                                  overrides={"taskRoleArn": missing})
        self.assertIn(missing, msg)


if __name__ == "__main__":
    unittest.main()
